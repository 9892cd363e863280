"""A fault injector for the poison-message tests: the real email transport, except that a
process about to send to a marked address dies on the spot (SIGKILL, no clean-up), as a
worker does on a message that crashes it (a C library fault, the OOM killer on a huge
render). Everything else goes out over SMTP as usual.

A worker started by a test uses it with
``NOTIFICATION_EMAIL_TRANSPORT=medguard_backend.testing.fatal_messages.WorkerKillingEmailTransport``
and ``MEDGUARD_KILL_ON_RECIPIENTS=<address>[,<address>...]``.
"""

from __future__ import annotations

import os
import signal

from notifications.channels import OutgoingMessage, SendReceipt
from notifications.channels.email import EmailTransport

KILL_ON_RECIPIENTS = "MEDGUARD_KILL_ON_RECIPIENTS"


class WorkerKillingEmailTransport(EmailTransport):
    def send(self, message: OutgoingMessage) -> SendReceipt:
        if message.to in os.environ.get(KILL_ON_RECIPIENTS, "").split(","):
            # Only this process: in a prefork worker the pool child, which the main
            # process replaces, as after a real crash.
            os.kill(os.getpid(), signal.SIGKILL)
        return super().send(message)
