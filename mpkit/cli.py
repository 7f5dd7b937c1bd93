"""The `mpkit` command: thin flag parsing over the Python API (each flag is one keyword)."""

from __future__ import annotations

import argparse
import json
import logging
import sys

from .errors import MpkitError
from .i18n import N_, SUPPORTED_LANGUAGES, Message, _, current_language, parse_language, set_language

log = logging.getLogger("mpkit")


def _diagnose(args: argparse.Namespace) -> int:
    from .bundle import load_bundle
    from .diagnose import diagnose
    from .render import render_text

    with load_bundle(args.path) as bundle:
        d = diagnose(bundle, instance=args.instance, attempt=args.attempt)
        if args.json:
            print(json.dumps(d.to_dict(), indent=2, ensure_ascii=False))
        else:
            sys.stdout.write(render_text(d, verbose=args.verbose))
    return 0


def _report(args: argparse.Namespace) -> int:
    from . import report as rep
    from .samples import sample

    path = sample(args.sample) if args.sample else args.path
    if path is None:
        raise MpkitError(Message("give a bundle PATH or --sample NAME"))
    out = rep.report(
        path,
        args.output,
        instance=args.instance,
        attempt=args.attempt,
        since=args.since,
        until=args.until,
        redact=args.redact,
        title=args.title,
        lang=current_language(),
        keep_notebook=args.keep_notebook,
        quiet=args.quiet,
    )
    print(out)
    return 0


def _batch(args: argparse.Namespace) -> int:
    from . import report as rep

    out = rep.batch(
        args.inputs,
        args.output,
        workers=args.workers,
        scheduler=args.scheduler,
        quiet=args.quiet,
        lang=current_language(),
    )
    print(out)
    return 0


def _collect(args: argparse.Namespace) -> int:
    from . import collect as col

    out = col.collect(
        args.output,
        since=args.since,
        tar=args.tar,
        redact=args.redact,
        watch=args.watch,
        interval=args.interval,
        progress=None if args.quiet else (lambda s: print(s, file=sys.stderr)),
    )
    print(out)
    return 0


def _probe(args: argparse.Namespace) -> int:
    from . import collect as col

    out = col.probe(
        args.instance,
        attempts=args.attempts,
        interval=args.interval,
        stop_first=args.stop_first,
        timeout=args.timeout,
        out_dir=args.output,
        progress=None if args.quiet else (lambda s: print(s, file=sys.stderr)),
    )
    print(out)
    return 0


def _doctor(args: argparse.Namespace) -> int:
    from . import doctor as doc

    try:
        res = doc.doctor(
            args.instance,
            yes=args.yes,
            no_start=args.no_start,
            out_dir=args.output,
            since=args.since,
            timeout=args.timeout,
            targets=doc.targets_from_file(args.targets) if args.targets else None,
        )
    except KeyboardInterrupt:  # before the session had a bundle to close
        return doc.EXIT_STOPPED
    return res.exit_status


_DOCTOR_EPILOG = N_(
    """\
Read-only steps run when you answer y (--yes agrees to all of them, a timed
start attempt included unless --no-start). Each fix that mpkit can run asks
first and is checked by a timed start; firewall, settings and software changes
are printed for you, and steps that can lose data are printed with what to
back up, never run. mpkit never uses sudo by itself.

The bundle (-o DIR) holds every output, doctor/transcript.jsonl and
doctor/report.html.

exit status:
  0  the start works (nothing to fix, or a step fixed it)
  1  not fixed (or nothing could be checked)
  2  mpkit could not run (bad option, unreadable targets file)
  3  stopped by you (q at a prompt, or Ctrl-C); the bundle is still valid
"""
)


def _redact(args: argparse.Namespace) -> int:
    from . import collect as col

    print(col.redact_bundle(args.bundle, args.output, map_path=args.map))
    return 0


def _samples(args: argparse.Namespace) -> int:
    from .samples import DEFAULT, samples

    for name, path in samples().items():
        print(f"{name}{_(' (default)') if name == DEFAULT else ''}\t{path}")
    return 0


def _frames(args: argparse.Namespace) -> int:
    from .bundle import load_bundle

    with load_bundle(args.path) as b:
        print(b.coverage.to_string(index=False))
        print()
        for name, f in sorted(b.frames.items()):
            print(
                _("{name}: {n} rows, columns {columns}").format(
                    name=name, n=len(f), columns=", ".join(f.columns)
                )
            )
        if b.unrecognised:
            found = ", ".join(f"{u.path} ({u.reason})" for u in b.unrecognised)
            print("\n" + _("not recognised: {files}").format(files=found))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The ``mpkit`` command line: every subcommand with its options and help."""
    from . import __version__

    p = argparse.ArgumentParser(
        prog="mpkit", description=_("Diagnose Multipass instances that will not start.")
    )
    p.add_argument("--version", action="version", version=f"mpkit {__version__}")
    p.add_argument("-v", "--log-level", default="WARNING", help=_("logging level (DEBUG, INFO, WARNING)"))
    sub = p.add_subparsers(dest="cmd", required=True)

    d = sub.add_parser("diagnose", help=_("find the failing stage and root cause"))
    d.add_argument("path", help=_("bundle directory, archive, artifact file or paste"))
    d.add_argument("--instance")
    d.add_argument("--attempt", type=int)
    d.add_argument("--json", action="store_true", help=_("print the JSON contract"))
    d.add_argument("--verbose", action="store_true", help=_("show every check"))
    d.set_defaults(fn=_diagnose)

    r = sub.add_parser("report", help=_("single offline HTML report"))
    r.add_argument("path", nargs="?")
    r.add_argument("-o", "--output", default="report.html")
    r.add_argument("--sample", help=_("use a shipped sample bundle (`mpkit samples`)"))
    r.add_argument("--instance")
    r.add_argument("--attempt", type=int)
    r.add_argument("--since")
    r.add_argument("--until")
    r.add_argument("--redact", action="store_true")
    r.add_argument("--title")
    r.add_argument("--keep-notebook", action="store_true")
    r.add_argument("--quiet", action="store_true")
    r.set_defaults(fn=_report)

    b = sub.add_parser("batch", help=_("reports for many bundles + a fleet index"))
    b.add_argument("inputs", nargs="+")
    b.add_argument("-o", "--output", required=True)
    b.add_argument("--workers", type=int, default=1)
    b.add_argument("--scheduler", help=_("dask.distributed scheduler address"))
    b.add_argument("--quiet", action="store_true")
    b.set_defaults(fn=_batch)

    c = sub.add_parser("collect", help=_("gather a bundle on this host (read-only)"))
    c.add_argument("-o", "--output")
    c.add_argument("--since", default="2h")
    c.add_argument("--tar", action="store_true")
    c.add_argument("--redact", action="store_true")
    c.add_argument("--watch", type=float, help=_("only take lease/ARP snapshots for this many seconds"))
    c.add_argument("--interval", type=float, default=1.0)
    c.add_argument("--quiet", action="store_true")
    c.set_defaults(fn=_collect)

    pr = sub.add_parser("probe", help=_("time start attempts while snapshotting leases and ARP"))
    pr.add_argument("instance")
    pr.add_argument("--attempts", type=int, default=1)
    pr.add_argument("--interval", type=float, default=1.0)
    pr.add_argument("--stop-first", action="store_true")
    pr.add_argument("--timeout", type=float, default=330.0)
    pr.add_argument("-o", "--output")
    pr.add_argument("--quiet", action="store_true")
    pr.set_defaults(fn=_probe)

    dr = sub.add_parser(
        "doctor",
        help=_("guided session: look, learn, fix and check, on this host"),
        epilog=_(_DOCTOR_EPILOG),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    dr.add_argument(
        "instance", nargs="?", help=_("the instance that will not start (default: the one found)")
    )
    dr.add_argument("--yes", action="store_true", help=_("agree to every read-only step"))
    dr.add_argument("--no-start", action="store_true", help=_("never start the instance"))
    dr.add_argument("-o", "--output", help=_("bundle directory (default: ./mpkit-doctor-<UTC time>)"))
    dr.add_argument("--since", default="2h", help=_("log window of the first look (default 2h)"))
    dr.add_argument("--timeout", type=float, default=330.0, help=_("seconds a start may take (default 330)"))
    dr.add_argument("--targets", help=_("JSON file: where Multipass lives when not at its default places"))
    dr.set_defaults(fn=_doctor)

    rd = sub.add_parser("redact", help=_("write a redacted copy of a bundle"))
    rd.add_argument("bundle")
    rd.add_argument("-o", "--output", required=True)
    rd.add_argument("--map", help=_("where to keep the pseudonym map (never inside the bundle)"))
    rd.set_defaults(fn=_redact)

    s = sub.add_parser("samples", help=_("list the shipped sample bundles"))
    s.set_defaults(fn=_samples)

    f = sub.add_parser("frames", help=_("show what was read from a bundle (coverage and frames)"))
    f.add_argument("path")
    f.set_defaults(fn=_frames)
    for command in (p, *sub.choices.values()):
        command.add_argument(
            "--lang",
            type=_lang_arg,
            default=argparse.SUPPRESS,
            help=_(
                "language of the output: {choices} (default: MPKIT_LANG, else the locale, else en)"
            ).format(choices=", ".join(SUPPORTED_LANGUAGES)),
        )
    return p


def _lang_arg(value: str) -> str:
    try:
        return parse_language(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _early_language(argv: list[str]) -> None:
    """Use the language ``--lang`` names before the parser is built, so its help is translated."""
    for i, a in enumerate(argv):
        value = (
            argv[i + 1] if a == "--lang" and i + 1 < len(argv) else a[7:] if a.startswith("--lang=") else None
        )
        if value is not None:
            try:
                set_language(value)
            except ValueError:
                pass  # the parser reports it
            return


def main(argv: list[str] | None = None) -> int:
    """Run the ``mpkit`` command line; returns the exit status."""
    set_language(None)
    _early_language(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    set_language(getattr(args, "lang", None))
    logging.basicConfig(
        level=getattr(logging, str(args.log_level).upper(), logging.WARNING),
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.fn(args))
    except MpkitError as exc:
        print(f"mpkit: {exc}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as exc:
        if not exc.name or exc.name.split(".")[0] == "mpkit":
            raise  # a bug in mpkit itself, not a missing dependency
        from .deps import missing_module_message

        print(f"mpkit: {missing_module_message(exc.name, args.cmd)}", file=sys.stderr)
        return 2
    except (OSError, ValueError) as exc:
        print(f"mpkit: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
