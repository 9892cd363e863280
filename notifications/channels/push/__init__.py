"""Push transports.

``FilePushTransport`` (the embedded default) and ``ConsolePushTransport`` are for
development; ``ProviderPushTransport`` sends to Expo's push API (the app's tokens, in
chunks of 100), to Firebase Cloud Messaging HTTP v1 (Android tokens that are not Expo's)
and to browsers' push services with Web Push (VAPID, RFC 8291).
"""

from .development import ConsolePushTransport, FilePushTransport, require_targets, shown_token
from .transport import ProviderPushTransport

__all__ = [
    "ConsolePushTransport",
    "FilePushTransport",
    "ProviderPushTransport",
    "require_targets",
    "shown_token",
]
