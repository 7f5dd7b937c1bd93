"""Writing a bundle: files strictly inside the output directory, optionally redacted on the way."""

from __future__ import annotations

import datetime as dt
import re
import threading
from pathlib import Path, PurePosixPath

from ..errors import CollectError
from ..i18n import Message
from .manifest import Manifest
from .redact import Redactor


def default_out_dir(now: dt.datetime, cwd: Path | None = None) -> Path:
    """``mpkit-bundle-<UTC time>`` in the current directory."""
    stamp = now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H-%M-%SZ")
    return (cwd or Path.cwd()) / f"mpkit-bundle-{stamp}"


def snapshot_folder_name(now: dt.datetime) -> str:
    """``2026-11-25T10-15-32.120Z`` (UTC, file-system safe)."""
    t = now.astimezone(dt.UTC)
    return t.strftime("%Y-%m-%dT%H-%M-%S.") + f"{t.microsecond // 1000:03d}Z"


def prepare_out_dir(out_dir: str | Path | None, now: dt.datetime) -> Path:
    """Create the output directory; refuse a non-empty one (never overwrite a bundle)."""
    path = Path(out_dir) if out_dir is not None else default_out_dir(now)
    if path.exists() and not path.is_dir():
        raise CollectError(
            Message("{path} exists and is not a directory; choose another output with -o", path=path)
        )
    if path.is_dir() and any(path.iterdir()):
        raise CollectError(Message("{path} is not empty; choose a new output directory with -o", path=path))
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CollectError(
            Message(
                "cannot create {path}: {strerror}; choose another output with -o",
                path=path,
                strerror=exc.strerror or exc,
            )
        ) from exc
    return path


_SAFE = re.compile(r"^[\w.@+-][\w.@ +-]*$")


class BundleWriter:
    """Writes artifacts below ``root`` only, through the redactor when there is one."""

    def __init__(self, root: Path, manifest: Manifest, redactor: Redactor | None = None) -> None:
        self.root = root.resolve()
        self.manifest = manifest
        self.redactor = redactor
        self._lock = threading.Lock()
        #: files written through the redactor, with how many names it knew then
        self._written: dict[Path, int] = {}

    def path_for(self, rel: str) -> Path:
        """The path of ``rel`` inside the bundle; a name that would leave the bundle is refused."""
        parts = PurePosixPath(rel).parts
        if not parts or any(p in ("", ".", "..") or not _SAFE.match(p) for p in parts):
            raise CollectError(Message("refusing to write outside the bundle: {rel!r}", rel=rel))
        path = self.root.joinpath(*parts)
        if not path.resolve().is_relative_to(self.root):
            raise CollectError(Message("refusing to write outside the bundle: {rel!r}", rel=rel))
        return path

    def write(self, rel: str, data: bytes, *, append: bool = False) -> int:
        """Write (or append) ``data`` to ``rel``; returns the bytes written."""
        with self._lock:
            if self.redactor is not None:
                data = self.redactor.redact_bytes(data)
                rel = self.redactor.redact_text(rel, learn=False)
            path = self.path_for(rel)
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "ab" if append else "wb") as fh:
                fh.write(data)
            if self.redactor is not None:
                self._written[path] = min(self._written.get(path, 1 << 30), self.redactor.names_known())
            return len(data)

    def sweep_names(self) -> int:
        """Replace, in the files already written, the names the redactor learned after writing them
        (a user name first seen in the last artifact is then gone from the first too). Returns the
        number of files rewritten."""
        if self.redactor is None:
            return 0
        changed = 0
        with self._lock:
            known = self.redactor.names_known()
            for path, seen in sorted(self._written.items()):
                if seen >= known or not path.is_file():
                    continue
                data = path.read_bytes()
                new = self.redactor.redact_names(data.decode("utf-8", "surrogateescape")).encode(
                    "utf-8", "surrogateescape"
                )
                if new != data:
                    path.write_bytes(new)
                    changed += 1
                self._written[path] = known
        return changed
