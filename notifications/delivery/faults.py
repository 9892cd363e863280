"""Fault injection for the chaos tests (``python3 dev.py chaos``): inert unless asked for.

``MEDGUARD_FAULT_POINT=<point>:<n>`` makes the process that reaches ``<point>`` for the
``n``-th time kill its whole process group with SIGKILL (a Celery worker started in its own
session: the main process and its pool children), as the OOM killer or a lost machine
would. The points, in the order a send reaches them:

- ``before_send``: the attempt is committed as ``started``; the provider was not called.
- ``after_send``: the provider accepted the message; nothing about it is committed yet.
- ``after_commit``: the attempt and the delivery are committed as ``sent``.

The variable is read once, at import. Unset (production, every normal test run) the hook is
one comparison with ``None``.
"""

from __future__ import annotations

import logging
import os
import signal

logger = logging.getLogger(__name__)

POINTS = ("before_send", "after_send", "after_commit")
ENV_VAR = "MEDGUARD_FAULT_POINT"


def _parse(value: str) -> tuple[str, int] | None:
    if not value:
        return None
    point, _, count = value.partition(":")
    if point not in POINTS or not count.isdigit() or int(count) < 1:
        raise ValueError(
            f"{ENV_VAR} must be <point>:<n> with point one of {', '.join(POINTS)}, got {value!r}"
        )
    return point, int(count)


_armed = _parse(os.environ.get(ENV_VAR, ""))
_reached = 0


def fault_point(point: str) -> None:
    """Kill this process group here if ``MEDGUARD_FAULT_POINT`` names this point and this
    is its n-th passage; otherwise do nothing."""
    global _reached
    if _armed is None or _armed[0] != point:
        return
    _reached += 1
    if _reached == _armed[1]:
        logger.warning("fault injection: SIGKILL at %s (passage %d)", point, _reached)
        os.killpg(os.getpgid(0), signal.SIGKILL)
