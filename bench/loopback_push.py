"""The scale benchmark's push transport: one HTTP POST per message to the loopback stand-in
(bench/push_sink.py) over a kept-alive connection, as a provider's HTTP API is used.
Selected with NOTIFICATION_PUSH_TRANSPORT=bench.loopback_push.LoopbackPushTransport."""

from __future__ import annotations

import http.client
import json
import os

from notifications.channels.base import OutgoingMessage, SendReceipt, Transport, TransportError


class LoopbackPushTransport(Transport):
    channel = "push"

    def open(self) -> None:
        port = int(os.environ["BENCH_PUSH_PORT"])
        self._http = http.client.HTTPConnection("127.0.0.1", port, timeout=10)

    def close(self) -> None:
        self._http.close()

    def send(self, message: OutgoingMessage) -> SendReceipt:
        if not message.push_targets:
            raise TransportError("no active push device", permanent=True)
        body = json.dumps(
            {
                "to": [target.token for target in message.push_targets],
                "title": message.subject,
                "body": message.text,
            }
        )
        try:
            self._http.request("POST", "/push", body, {"Content-Type": "application/json"})
            response = self._http.getresponse()
            answer = response.read()
        except (OSError, http.client.HTTPException) as error:
            self._http.close()
            raise TransportError(
                f"push stand-in: {type(error).__name__}", permanent=False
            ) from None
        if response.status != 200:
            raise TransportError(f"push stand-in {response.status}", permanent=False)
        return SendReceipt(provider_message_id=json.loads(answer)["data"]["id"])
