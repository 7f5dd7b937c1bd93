"""Running a report: the Jupyter kernel, the notebook executed with papermill, the export to one
self-contained HTML file (no code, no prompts, no script), and :func:`report` itself."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ReportError
from ..i18n import Message, _, language
from .context import prepare_to_file, redactor_class
from .markup import clip, esc, page
from .params import DIAGNOSIS_MIME, validate_parameters

log = logging.getLogger(__name__)

#: the ``mpkit`` package directory
PACKAGE_DIR = Path(__file__).resolve().parent.parent
KERNEL_NAME = "mpkit"
#: cells with this tag are for people reading the notebook, not for the HTML report
NOTEBOOK_ONLY_TAG = "notebook-only"
KERNEL_START_TRIES = 3


def notebook_path(name: str = "diagnose") -> Path:
    """The packaged notebook ``name`` (``diagnose`` or ``explore``)."""
    from ..resources import package_path

    p = package_path("notebooks", f"{name}.ipynb")
    if not p.is_file():
        raise ReportError(
            Message("notebook {path} is missing from this installation; reinstall mpkit", path=p)
        )
    return p


def _spec_matches(spec: Any) -> bool:
    argv = list(getattr(spec, "argv", []) or [])
    if not argv:
        return False
    exe = argv[0]
    if os.path.isabs(exe):
        return os.path.abspath(exe) == os.path.abspath(sys.executable)
    return Path(getattr(spec, "resource_dir", "")).resolve().is_relative_to(
        Path(sys.prefix).resolve()
    ) and exe.startswith("python")


def ensure_kernel(preferred: str = KERNEL_NAME) -> str:
    """A kernel name that runs *this* Python: ``mpkit`` when registered for it, else one registered now.

    The new kernel spec goes into ``sys.prefix`` (where Jupyter looks by default) or, when that is
    not writable, into a private directory added to ``JUPYTER_PATH`` for this process and its children.
    """
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    ksm = KernelSpecManager()
    tag = hashlib.sha1(os.path.abspath(sys.executable).encode()).hexdigest()[:8]
    for name in (preferred, f"mpkit-{tag}"):
        try:
            if _spec_matches(ksm.get_kernel_spec(name)):
                return name
        except NoSuchKernel:
            continue
    name = f"mpkit-{tag}"
    from ipykernel.kernelspec import install, write_kernel_spec

    try:
        install(kernel_name=name, display_name=f"Python (mpkit, {sys.executable})", prefix=sys.prefix)
        log.info("registered kernel %s for %s in %s", name, sys.executable, sys.prefix)
    except OSError as exc:
        base = Path(tempfile.gettempdir()) / f"mpkit-jupyter-{os.getuid() if hasattr(os, 'getuid') else 'u'}"
        kdir = base / "kernels" / name
        if kdir.exists():
            shutil.rmtree(kdir)
        write_kernel_spec(str(kdir), overrides={"display_name": f"Python (mpkit, {sys.executable})"})
        os.environ["JUPYTER_PATH"] = os.pathsep.join(
            x for x in (str(base), os.environ.get("JUPYTER_PATH", "")) if x
        )
        log.info("registered kernel %s in %s (%s not writable: %s)", name, base, sys.prefix, exc)
    return name


def _is_kernel_start_failure(exc: BaseException) -> bool:
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError | ReportError):
        return False
    text = f"{type(exc).__name__}: {exc}".lower()
    return isinstance(exc, RuntimeError | TimeoutError | OSError) or any(
        w in text
        for w in (
            "kernel died",
            "kernel didn't respond",
            "deadkernel",
            "kernel_info",
            "zmq",
            "address already in use",
        )
    )


def kernel_manager_kwargs() -> dict[str, Any]:
    """On POSIX, talk to the kernel over IPC sockets: no TCP port, and no "running over TCP
    without encryption" warning on every report."""
    if os.name != "posix":
        return {}
    from jupyter_client.manager import AsyncKernelManager

    class IPCKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.transport = "ipc"

    return {"kernel_manager_class": IPCKernelManager}


def _execute(
    input_nb: Path,
    output_nb: Path,
    params: dict[str, Any],
    *,
    kernel: str,
    quiet: bool,
    timeout: int,
    cwd: Path,
    tries: int = KERNEL_START_TRIES,
) -> BaseException | None:
    """Run the notebook with papermill; retry kernel start failures. Returns the cell error, if any."""
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    for n in range(1, tries + 1):
        try:
            pm.execute_notebook(
                str(input_nb),
                str(output_nb),
                parameters=params,
                kernel_name=kernel,
                progress_bar=not quiet,
                log_output=False,
                request_save_on_cell_execute=False,
                execution_timeout=timeout,
                cwd=str(cwd),
                start_timeout=120,
                **kernel_manager_kwargs(),
            )
            return None
        except PapermillExecutionError as exc:
            return exc
        except Exception as exc:
            if n < tries and _is_kernel_start_failure(exc) and not _ran_any_cell(output_nb):
                log.warning(
                    "kernel start failed (%s: %s); retrying (%d/%d)", type(exc).__name__, exc, n + 1, tries
                )
                time.sleep(0.5 * n)
                continue
            return exc
    return None  # pragma: no cover


def _ran_any_cell(nb_path: Path) -> bool:
    import nbformat

    if not nb_path.exists():
        return False
    try:
        nb = nbformat.read(str(nb_path), as_version=4)
    except (OSError, ValueError):
        return False
    return any(c.get("cell_type") == "code" and c.get("execution_count") for c in nb.cells)


def _error_banner(error: BaseException | None) -> str:
    if error is None:
        return ""
    ename = getattr(error, "ename", type(error).__name__)
    evalue = getattr(error, "evalue", str(error))
    failed = _("A step of the report failed: <strong>{error_type}</strong>: {error}").format(
        error_type=esc(ename), error=esc(clip(evalue, 600))
    )
    rest = _(
        "Everything up to the failure is shown below; the error and its traceback are shown where it happened. "
        "Sections after it are missing."
    )
    return (
        '<div class="mpkit-error-banner" role="alert" id="mpkit-error">'
        f"<h2>{esc(_('This report is incomplete'))}</h2><p>{failed}</p><p>{esc(rest)}</p></div>"
    )


def translate_markdown(nb: Any) -> Any:
    """The notebook's markdown cells (the report's headings) in the current language, in place."""
    for c in nb.cells:
        if c.get("cell_type") == "markdown" and c.get("source"):
            c["source"] = _(c["source"])
    return nb


_SCRIPT_TAG = re.compile(r"<script\b[^>]*>.*?</script\s*>|<script\b[^>]*/?>", re.I | re.S)


def export_html(nb: Any, *, title: str, error: BaseException | None = None) -> str:
    """Export an executed notebook to one self-contained HTML page (no code, no prompts, no scripts)."""
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    nb = translate_markdown(_strip_papermill_banner(nb))
    exporter = HTMLExporter(
        template_name="basic",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
        mathjax_url="",
        require_js_url="",
        exclude_anchor_links=True,
    )
    exporter.register_preprocessor(
        TagRemovePreprocessor(remove_cell_tags={NOTEBOOK_ONLY_TAG}, enabled=True), enabled=True
    )
    body, _ = exporter.from_notebook_node(nb)
    body = _SCRIPT_TAG.sub("", body)  # belt and braces: the page needs no script, the CSP forbids them anyway
    return page(title, body, banner=_error_banner(error))


def _strip_papermill_banner(nb: Any) -> Any:
    import copy

    nb = copy.deepcopy(nb)
    nb.cells = [
        c for c in nb.cells if "papermill-error-cell-tag" not in (c.get("metadata", {}).get("tags") or [])
    ]
    for c in nb.cells:
        c.get("metadata", {}).pop("papermill", None)
        if c.get("outputs"):
            c["outputs"] = [o for o in c["outputs"] if DIAGNOSIS_MIME not in (o.get("data") or {})]
    return nb


def diagnosis_from_notebook(nb: Any) -> dict[str, Any] | None:
    """The payload the notebook emitted with :func:`emit` (diagnosis, host, bundle), or None."""
    for c in nb.cells:
        for o in c.get("outputs", []) or []:
            data = o.get("data") or {}
            if DIAGNOSIS_MIME in data:
                v = data[DIAGNOSIS_MIME]
                return json.loads(v) if isinstance(v, str) else dict(v)
    return None


@dataclass
class ReportRun:
    """One executed report: the HTML written, the executed notebook, the cell error, the diagnosis payload."""

    html: Path
    notebook: Any
    error: BaseException | None
    payload: dict[str, Any] | None


def run_report(
    params: dict[str, Any],
    output: Path,
    *,
    keep_notebook: bool,
    quiet: bool,
    timeout: int,
    kernel: str | None = None,
) -> ReportRun:
    """Execute the notebook with already-validated ``params`` and write the HTML (also when a cell fails)."""
    import nbformat

    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    kernel = kernel or ensure_kernel()
    nb_in = notebook_path("diagnose")
    with tempfile.TemporaryDirectory(prefix="mpkit-report-") as tmpd:
        tmp = Path(tmpd)
        if params.get("redact"):
            # hide the real path (it may hold a user name) from the parameters kept in the notebook
            src = Path(params["bundle"])
            link = tmp / ("bundle" + "".join(src.suffixes[-2:]) if src.is_file() else "bundle")
            link.symlink_to(src)
            params = {**params, "bundle": str(link)}
        out_nb = tmp / "report.ipynb"
        # the bundle is read and diagnosed here while the kernel starts; the notebook takes the result
        ready = tmp / "prepared.pickle"
        worker = threading.Thread(target=prepare_to_file, args=(params, ready), daemon=True)
        worker.start()
        with_ready = {**params, "prepared": str(ready)}
        try:
            error = _execute(nb_in, out_nb, with_ready, kernel=kernel, quiet=quiet, timeout=timeout, cwd=tmp)
        finally:
            worker.join()
        nb = (
            nbformat.read(str(out_nb), as_version=4)
            if out_nb.exists()
            else nbformat.read(str(nb_in), as_version=4)
        )
        payload = diagnosis_from_notebook(nb)
        title = (payload or {}).get("bundle") or Path(params["bundle"]).name
        heading = params.get("title") if not params.get("redact") else None
        with language(params.get("lang")):
            default = _("mpkit report: {title}").format(title=title)
            html_text = export_html(nb, title=heading or default, error=error)
        output.write_text(html_text, encoding="utf-8")
        if keep_notebook:
            nbformat.write(nb, str(output.with_suffix(".ipynb")))
    return ReportRun(output, nb, error, payload)


def report(
    bundle_path: str | os.PathLike[str] | None,
    output: str | os.PathLike[str] = "report.html",
    *,
    instance: str | None = None,
    attempt: int | None = None,
    since: str | None = None,
    until: str | None = None,
    redact: bool = False,
    title: str | None = None,
    lang: str | None = None,
    keep_notebook: bool = False,
    quiet: bool = False,
    timeout: int = 600,
) -> Path:
    """Execute the diagnosis notebook on ``bundle_path`` and write one self-contained HTML file.

    ``lang`` is the report's language (``en`` or ``zh-CN``; None: ``MPKIT_LANG``, else the locale,
    else English). Parameters are validated before any kernel starts. On a failing cell the partial HTML (with an
    error banner) is still written, then :class:`ReportError` is raised. ``keep_notebook`` also keeps
    the executed notebook beside the HTML (same name, ``.ipynb``). Returns the HTML path.
    """
    params = validate_parameters(
        {
            "bundle": bundle_path,
            "instance": instance,
            "attempt": attempt,
            "since": since,
            "until": until,
            "redact": redact,
            "title": title,
            "lang": lang,
        }
    )
    if params["redact"]:
        redactor_class()
    if not isinstance(timeout, int) or timeout <= 0:
        raise ReportError(
            Message("timeout must be a positive number of seconds, not {timeout!r}", timeout=timeout)
        )
    run = run_report(params, Path(output), keep_notebook=keep_notebook, quiet=quiet, timeout=timeout)
    if run.error is not None:
        ename = getattr(run.error, "ename", type(run.error).__name__)
        evalue = getattr(run.error, "evalue", str(run.error))
        raise ReportError(
            Message(
                "the report notebook failed ({ename}: {evalue}); the partial report is in {html}",
                ename=ename,
                evalue=clip(evalue, 300),
                html=run.html,
            )
        )
    return run.html
