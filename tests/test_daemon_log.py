"""The daemon-log parser: chunked, threaded file parsing gives exactly the frame of ``parse``."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from mpkit.parsers import daemon_log

FIXTURE = Path(__file__).parent / "data" / "macos" / "daemon_log--arp-era-timeout.txt"


@pytest.mark.parametrize(("chunk", "workers"), [(700, 1), (700, 3), (5000, 2), (1 << 20, 2)])
def test_parse_path_equals_parse(tmp_path: Path, chunk: int, workers: int) -> None:
    text = "a line of prose before the log\n" + FIXTURE.read_text() * 40 + "trailing \ufffd junk\n"
    path = tmp_path / "multipassd.log"
    path.write_text(text)
    whole = daemon_log.parse(text)
    chunked = daemon_log.parse_path(path, chunk_bytes=chunk, workers=workers)
    pd.testing.assert_frame_equal(whole, chunked)
    assert whole.attrs["coverage"] == chunked.attrs["coverage"]
    assert whole["line"].is_monotonic_increasing


def test_record_spanning_a_chunk_boundary_stays_whole(tmp_path: Path) -> None:
    long_stderr = "\n".join(f"qemu-system-aarch64: stderr line {i}" for i in range(200))
    text = f"[2025-01-01T00:00:00.000] [warning] [vm] first\n{long_stderr}\n[2025-01-01T00:00:01.000] [info] [vm] next\n"
    path = tmp_path / "multipassd.log"
    path.write_text(text)
    frame = daemon_log.parse_path(path, chunk_bytes=256, workers=2)
    assert len(frame) == 2 and frame["n_lines"].tolist() == [201, 1]
    assert frame["message"].iloc[0].count("\n") == 200
