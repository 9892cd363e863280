"""The embedded broker publishes whole messages: a consumer listing the folder at any moment
finds complete message files only (kombu's own writes them in place; kombu issue #1551)."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from kombu import Connection

from medguard_backend.broker import FilesystemTransport

MESSAGES = 2000


def test_a_consumer_never_reads_a_half_written_message(tmp_path: Path) -> None:
    folder = str(tmp_path)
    options = {"data_folder_in": folder, "data_folder_out": folder}
    payload = {"body": "x" * 4096, "headers": {"id": "ids only"}}
    seen: list[bytes] = []
    done = threading.Event()

    def consume() -> None:
        while not done.is_set() or any(n.endswith(".msg") for n in os.listdir(folder)):
            for name in sorted(os.listdir(folder)):
                if not name.endswith(".msg"):
                    continue
                try:
                    with open(os.path.join(folder, name), "rb") as message_file:
                        seen.append(message_file.read())
                    os.remove(os.path.join(folder, name))
                except FileNotFoundError:
                    continue

    with Connection("filesystem://", transport=FilesystemTransport, transport_options=options) as c:
        channel = c.default_channel
        reader = threading.Thread(target=consume)
        reader.start()
        for _ in range(MESSAGES):
            channel._put("notifications", payload)
        done.set()
        reader.join(timeout=60)

    assert len(seen) == MESSAGES
    assert all(json.loads(raw) == payload for raw in seen)
    assert os.listdir(folder) == []  # no partial file left behind
