"""Safe unpacking of bundle archives (.tar.gz, .tgz, .tar, .zip).

Everything is unpacked into a private temporary directory.  An archive is
refused with :class:`~mpkit.errors.BundleError` (and nothing is written outside
that directory) when a member:

* has an absolute path or a ``..`` component;
* is a symlink or hard link whose target leaves the archive root;
* is a device file, FIFO or socket;

or when the archive as a whole unpacks to more than ``max_bytes`` (default
2 GiB), holds more than ``max_members`` members (default 20 000), or — once it
unpacks to more than 16 MiB — expands more than ``max_ratio`` times its packed
size (default 300: text logs compress 10–50×, decompression bombs thousands).
Links that stay inside the archive are not created; they are listed in
``skipped`` with the reason.
"""

from __future__ import annotations

import shutil
import tarfile
import tempfile
import weakref
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO

from .errors import BundleError
from .i18n import Message

MAX_BYTES = 2 * 1024**3
MAX_RATIO = 300.0
MAX_MEMBERS = 20_000
RATIO_FLOOR = 16 * 1024**2
_COPY = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Caps applied while unpacking an archive (all configurable)."""

    max_bytes: int = MAX_BYTES
    max_ratio: float = MAX_RATIO
    max_members: int = MAX_MEMBERS


@dataclass
class Unpacked:
    """A private temporary directory holding an unpacked archive; removed on cleanup or garbage collection."""

    root: Path
    skipped: list[tuple[str, str]] = field(default_factory=list)
    _finalizer: weakref.finalize | None = None

    def cleanup(self) -> None:
        """Remove the unpacked files now (also done when the object is collected)."""
        if self._finalizer is not None:
            self._finalizer()
            self._finalizer = None


def is_archive(path: Path) -> bool:
    """Whether ``path`` is named like an archive mpkit unpacks (tar, tar.gz/bz2/xz, zip)."""
    name = path.name.lower()
    return name.endswith((".tar.gz", ".tgz", ".tar", ".zip", ".tar.bz2", ".tar.xz"))


def _safe_name(name: str, archive: Path) -> PurePosixPath:
    p = PurePosixPath(name.replace("\\", "/"))
    if p.is_absolute() or name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise BundleError(
            Message(
                "{archive}: refused: member {member!r} has an absolute path",
                archive=archive.name,
                member=name,
            )
        )
    if any(part == ".." for part in p.parts):
        raise BundleError(
            Message(
                "{archive}: refused: member {member!r} climbs out of the archive with '..'",
                archive=archive.name,
                member=name,
            )
        )
    return p


def _link_stays_inside(member: PurePosixPath, target: str, hard: bool) -> bool:
    t = PurePosixPath(target)
    if t.is_absolute():
        return False
    base = PurePosixPath() if hard else member.parent
    depth = 0
    for part in (base / t).parts:
        if part == "..":
            depth -= 1
            if depth < 0:
                return False
        elif part not in ("", "."):
            depth += 1
    return True


def _check_totals(archive: Path, total: int, members: int, limits: Limits) -> None:
    if members > limits.max_members:
        raise BundleError(
            Message(
                "{archive}: refused: {members} members (limit {max_members}); unpack it yourself if it is genuine",
                archive=archive.name,
                members=members,
                max_members=limits.max_members,
            )
        )
    if total > limits.max_bytes:
        raise BundleError(
            Message(
                "{archive}: refused: unpacks to {size:.0f} MiB (limit {limit:.0f} MiB); raise the limit (--max-unpacked) if the bundle is genuine",
                archive=archive.name,
                size=total / 1024**2,
                limit=limits.max_bytes / 1024**2,
            )
        )
    packed = max(archive.stat().st_size, 1)
    if total > RATIO_FLOOR and total / packed > limits.max_ratio:
        raise BundleError(
            Message(
                "{archive}: refused: expands {ratio:.0f}x (limit {max_ratio:.0f}x), which looks like a decompression bomb",
                archive=archive.name,
                ratio=total / packed,
                max_ratio=limits.max_ratio,
            )
        )


def _copy_bounded(src: IO[bytes], dst_path: Path, declared: int, archive: Path, name: str) -> int:
    written = 0
    with open(dst_path, "wb") as out:
        while True:
            buf = src.read(_COPY)
            if not buf:
                break
            written += len(buf)
            if written > declared:
                raise BundleError(
                    Message(
                        "{archive}: refused: member {member!r} holds more data than its header declares",
                        archive=archive.name,
                        member=name,
                    )
                )
            out.write(buf)
    return written


def unpack(archive: Path, limits: Limits | None = None) -> Unpacked:
    """Unpack ``archive`` into a private temporary directory, refusing hostile content."""
    limits = limits or Limits()
    root = Path(tempfile.mkdtemp(prefix="mpkit-bundle-"))
    result = Unpacked(root=root)
    result._finalizer = weakref.finalize(result, shutil.rmtree, str(root), True)
    try:
        if archive.name.lower().endswith(".zip"):
            _unzip(archive, root, limits, result)
        else:
            _untar(archive, root, limits, result)
    except BundleError:
        result.cleanup()
        raise
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError) as exc:
        result.cleanup()
        raise BundleError(
            Message(
                "{archive}: not a readable archive ({error}); check the file is complete",
                archive=archive.name,
                error=exc,
            )
        ) from exc
    return result


def _untar(archive: Path, root: Path, limits: Limits, result: Unpacked) -> None:
    with tarfile.open(archive, "r:*") as tf:
        members = tf.getmembers()
        files = []
        total = 0
        for m in members:
            name = _safe_name(m.name, archive)
            if m.issym() or m.islnk():
                if not _link_stays_inside(name, m.linkname, hard=m.islnk()):
                    raise BundleError(
                        Message(
                            "{archive}: refused: link {member!r} points outside the archive ({linkname!r})",
                            archive=archive.name,
                            member=m.name,
                            linkname=m.linkname,
                        )
                    )
                result.skipped.append((str(name), "link inside the archive (not followed)"))
            elif m.isdev() or m.isfifo() or m.ischr() or m.isblk():
                raise BundleError(
                    Message(
                        "{archive}: refused: member {member!r} is a device or FIFO",
                        archive=archive.name,
                        member=m.name,
                    )
                )
            elif m.isfile():
                files.append((name, m))
                total += m.size
            elif not m.isdir():
                result.skipped.append((str(name), "not a regular file"))
        _check_totals(archive, total, len(members), limits)
        for name, m in files:
            dest = root.joinpath(*name.parts)
            dest.parent.mkdir(parents=True, exist_ok=True)
            src = tf.extractfile(m)
            if src is None:
                continue
            with src:
                _copy_bounded(src, dest, m.size, archive, m.name)


def _unzip(archive: Path, root: Path, limits: Limits, result: Unpacked) -> None:
    with zipfile.ZipFile(archive) as zf:
        infos = zf.infolist()
        files = []
        total = 0
        for info in infos:
            name = _safe_name(info.filename, archive)
            mode = (info.external_attr >> 16) & 0o170000
            if mode == 0o120000:  # symlink stored by Info-ZIP
                target = zf.read(info)[:4096].decode("utf-8", "replace")
                if not _link_stays_inside(name, target, hard=False):
                    raise BundleError(
                        Message(
                            "{archive}: refused: link {member!r} points outside the archive ({target!r})",
                            archive=archive.name,
                            member=info.filename,
                            target=target,
                        )
                    )
                result.skipped.append((str(name), "link inside the archive (not followed)"))
                continue
            if mode in (0o020000, 0o060000, 0o010000, 0o140000):
                raise BundleError(
                    Message(
                        "{archive}: refused: member {member!r} is a device, FIFO or socket",
                        archive=archive.name,
                        member=info.filename,
                    )
                )
            if info.is_dir():
                continue
            files.append((name, info))
            total += info.file_size
        _check_totals(archive, total, len(infos), limits)
        for name, info in files:
            dest = root.joinpath(*name.parts)
            dest.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src:
                _copy_bounded(src, dest, info.file_size, archive, info.filename)


__all__ = ["Limits", "Unpacked", "is_archive", "unpack"]
