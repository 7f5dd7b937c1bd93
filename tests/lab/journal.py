"""The lab's ``journalctl`` stand-in: prints the journal file the stand-ins write.

The stand-in daemon (``daemon.py``) and client (``standin.py``) append
``journalctl -o short-iso`` lines to one file, dnsmasq's lines included,
stamped on arrival; this prints it like ``journalctl -o short-iso`` would.

Usage: ``python journal.py JOURNAL_FILE``
"""

from __future__ import annotations

import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    path = Path(argv[0])
    text = path.read_text(errors="replace") if path.exists() else ""
    sys.stdout.write(text if text.strip() else "-- No entries --\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
