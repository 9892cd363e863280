"""Expo's push API on loopback for the scale benchmark, in a process of its own so the
workers' CPU is theirs alone: the tests' provider stand-in
(``medguard_backend.testing.providers.ProviderServer`` with Expo's documented answers from
``provider_answers``), which takes ``POST /--/api/v2/push/send`` with up to 100 messages
and answers one ticket each. Prints ``ready <port>`` once listening; stops on SIGTERM.

The workers reach it through the production path: ``ProviderPushTransport`` with
``EXPO_API_URL`` pointing here, a batch's chunks of 100 in flight together.
"""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from medguard_backend.testing.provider_answers import install_default_routes
from medguard_backend.testing.providers import ProviderServer


def main() -> None:
    server = ProviderServer()
    install_default_routes(server)
    server.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print(f"ready {server.port}", flush=True)
    # The server keeps every request for the tests to inspect; a bench run sends thousands
    # of chunks, so the record is emptied now and then.
    while not stop.wait(5):
        server.clear()
    server.stop()


if __name__ == "__main__":
    main()
