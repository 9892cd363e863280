"""Whether a user can be reached on a channel at all (the policy's "has an address").

Kept apart from the send/defer/skip rules in decisions.py: these read contact details,
those read preferences and the clock.
"""

from __future__ import annotations


def sms_reachable(phone: object, phone_verified: bool) -> bool:
    """A phone number is an SMS address only once verified: a number the user typed may
    be mistyped or someone else's, and a medication reminder must not reach a stranger
    (accounts/phones.py). Numbers staff set are verified when set."""
    return bool(phone) and bool(phone_verified)
