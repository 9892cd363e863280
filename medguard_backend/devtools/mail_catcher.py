"""A local SMTP server for development: every message it receives is saved as an .eml file.

`python3 dev.py` starts it on 127.0.0.1:1025 and points Django's SMTP backend at it, so the
whole email path (templates, SMTP, connection reuse) runs as in production, and the mail
can be opened from var/mail/ with any mail program.
"""

from __future__ import annotations

import argparse
import itertools
import signal
import threading
import time
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


class SaveToFolder:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.counter = itertools.count(1)
        folder.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        name = f"{time.strftime('%Y%m%d-%H%M%S')}-{next(self.counter):05d}.eml"
        (self.folder / name).write_bytes(content)
        print(f"mail catcher: saved {self.folder / name}", flush=True)
        return "250 Message accepted for delivery"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1025)
    parser.add_argument("--folder", type=Path, default=Path("var/mail"))
    args = parser.parse_args()

    controller = Controller(SaveToFolder(args.folder), hostname=args.host, port=args.port)
    controller.start()
    print(f"mail catcher: listening on {args.host}:{args.port}, saving to {args.folder}/")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
