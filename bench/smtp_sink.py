"""An SMTP sink for the email benchmark, in its own process so that it does not share the
sender's interpreter: accepts every message and throws it away; STARTTLS when given a
certificate (production SMTP is port 587 with STARTTLS, as the seed configures it)."""

from __future__ import annotations

import argparse
import signal
import ssl
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


class Discard:
    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        return "250 OK"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    args = parser.parse_args()
    tls = None
    if args.cert:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(args.cert, args.key)
    controller = Controller(
        Discard(),
        hostname="127.0.0.1",
        port=args.port,
        tls_context=tls,
        require_starttls=tls is not None,
    )
    controller.start()
    print("ready", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
