"""kombu's Redis transport, made safe to close twice while Redis is down; and its filesystem
transport (the embedded default), made to publish each message atomically (at the end).

A worker died for good (``Unrecoverable error: AttributeError("'NoneType' object has no
attribute 'hostname'")``) about once in ninety Redis restarts, with celery 5.7.0, kombu 5.7.0
and redis-py 8.1.0. The path, reproduced by ``medguard_backend/tests/test_broker_restarts.py``:

1. The connection drops while the channel waits on a BRPOP and a late-acknowledged task is
   still unacknowledged (so: under load).
2. Celery's ``on_connection_error_after_connected`` calls ``connection.collect()``: kombu
   closes the default channel, whose ``close()`` first drains the pending BRPOP — that
   raises a connection error, caught, so the channel is left half-closed — and then
   detaches the transport from the connection (``transport.client = None``).
3. Celery then calls ``connection.close()`` on the same connection (new in celery 5.7: "close
   the broken connection so the old socket is released"). kombu closes the default channel
   again; this time it gets as far as restoring the unacknowledged message, builds a
   connection pool from ``transport.client`` — None — and raises AttributeError. That is no
   connection error, so ``ignore_errors`` lets it through and the worker exits.

kombu issue #582 ("Error on restarting Gossip", the same AttributeError from a channel used
after its connection was released) was closed without a fix in kombu; no released kombu
or celery version changes this path, so there is no version pair to pin. The patch here:

- ``Channel._connparams`` raises a connection error (which kombu and celery handle: retry,
  reconnect) instead of AttributeError when the channel's transport has been detached.
- ``Channel.connection_errors`` has a class-level value: kombu sets it on the instance only
  after the first PING succeeds, so a channel created while Redis is down (the gossip and
  heartbeat steps reopen theirs on every reconnect) raised
  ``AttributeError: ... 'connection_errors'`` from its own ``except`` clauses.

Registered in kombu's ``TRANSPORT_ALIASES`` for the ``redis`` and ``rediss`` schemes (see
settings), so every connection to a Redis URL uses it; the URL is read exactly as kombu's
own transport reads it.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from time import monotonic
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import filesystem as kombu_filesystem
from kombu.transport import redis as kombu_redis
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps
from redis.exceptions import ConnectionError as RedisConnectionError


class Channel(kombu_redis.Channel):
    connection_errors = kombu_redis.get_redis_error_classes().connection_errors

    def _connparams(self, asynchronous: bool = False) -> dict[str, Any]:
        if self.connection is None or self.connection.client is None:
            raise RedisConnectionError("the broker connection of this channel was closed")
        params: dict[str, Any] = super()._connparams(asynchronous=asynchronous)  # type: ignore[misc]
        return params


class Transport(kombu_redis.Transport):
    Channel = Channel


class FilesystemChannel(kombu_filesystem.Channel):
    """kombu's filesystem channel, publishing each message file atomically.

    kombu writes a message in place (create, lock, write), and a consumer moves and reads
    any ``*.msg`` file it lists without taking the lock: one that lists the file between
    its creation and the write reads it empty, and the worker dies with ``Unrecoverable
    error: JSONDecodeError`` (kombu issue #1551, open; seen here in the test suite under
    load and able to stop `python3 dev.py`). Here the message is written under a name the
    consumer does not match, flushed, and renamed into place in one step (``os.replace``
    is atomic within a folder), so a consumer sees a whole message or none.
    """

    def _put(self, queue: str, payload: Any, **kwargs: Any) -> None:  # type: ignore[override]
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = os.path.join(self.data_folder_out, f".{uuid.uuid4().hex}.partial")
        try:
            with open(partial, "wb") as message_file:
                message_file.write(str_to_bytes(dumps(payload)))
                message_file.flush()
                os.fsync(message_file.fileno())
            os.replace(partial, final)
        except OSError as error:
            with contextlib.suppress(OSError):
                os.remove(partial)
            raise ChannelError(f"Cannot add file {name!r} to directory") from error


class FilesystemTransport(kombu_filesystem.Transport):
    Channel = FilesystemChannel
