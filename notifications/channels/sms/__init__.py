"""SMS transports.

``FileSMSTransport`` (the embedded default) and ``ConsoleSMSTransport`` are for
development; ``GatewaySMSTransport`` sends through the gateways named in ``SMS_BACKENDS``
(Clickatell, BulkSMS, Africa's Talking, Twilio), in order, with failover.
"""

from .development import ConsoleSMSTransport, FileSMSTransport
from .failover import GatewaySMSTransport
from .numbers import needs_ucs2, validate_phone_number

__all__ = [
    "ConsoleSMSTransport",
    "FileSMSTransport",
    "GatewaySMSTransport",
    "needs_ucs2",
    "validate_phone_number",
]
