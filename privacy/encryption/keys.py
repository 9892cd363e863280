"""The keys of field encryption and of blind indexes, as the settings give them.

``FIELD_ENCRYPTION_KEYS``: Fernet keys, the first encrypts, all decrypt (MultiFernet), so a
new key is rolled out by putting it first and keeping the old ones until
``rotate_encryption_keys`` has re-encrypted every row. ``BLIND_INDEX_KEYS``: HMAC keys, the
first writes the index, all are tried when looking a value up, for the same reason.

Each is built once per process (per value of the setting, so ``override_settings`` in tests
sees new keys): a Fernet object derives nothing per call, so a row costs one AES and one
HMAC, never a key derivation.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

# Every Fernet token starts with its version byte 0x80, which base64 writes as "gAAAAA".
# A stored value without it was written in clear (before the data migration, or by a
# process still running the old code during a deploy): it is read as it is, and the next
# rotation encrypts it.
TOKEN_PREFIX = "gAAAAA"  # noqa: S105 - a format marker, not a secret
# Hex characters kept of an HMAC-SHA256: 128 bits, far from any collision among the values
# of one column, and less to store and index than the whole digest.
BLIND_INDEX_LENGTH = 32


class UndecryptableValue(ValueError):
    """A stored token that none of ``FIELD_ENCRYPTION_KEYS`` opens: a key was dropped before
    the rotation finished, or the settings name the wrong keys."""


@functools.lru_cache(maxsize=4)
def _cipher(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def cipher() -> MultiFernet:
    return _cipher(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(text: str) -> str:
    """``text`` as a token under the current key; "" stays "" (emptiness is no secret, and
    "no phone number" must stay cheap to ask)."""
    if not text:
        return text
    return cipher().encrypt(text.encode()).decode("ascii")


def decrypt(stored: str) -> str:
    if not stored or not stored.startswith(TOKEN_PREFIX):
        return stored
    try:
        return cipher().decrypt(stored.encode("ascii")).decode()
    except InvalidToken:
        raise UndecryptableValue(
            "a stored value cannot be decrypted with any of FIELD_ENCRYPTION_KEYS"
        ) from None


@functools.lru_cache(maxsize=4)
def _current_key(key: str) -> Fernet:
    return Fernet(key)


def is_current(stored: str) -> bool:
    """Whether ``stored`` is empty or a token of the current (first) key."""
    if not stored:
        return True
    if not stored.startswith(TOKEN_PREFIX):
        return False
    try:
        _current_key(settings.FIELD_ENCRYPTION_KEYS[0]).decrypt(stored.encode("ascii"))
    except InvalidToken:
        return False
    return True


@functools.lru_cache(maxsize=4)
def _index_keys(keys: tuple[str, ...]) -> tuple[bytes, ...]:
    return tuple(key.encode() for key in keys)


def _digest(key: bytes, purpose: str, value: str) -> str:
    message = f"{purpose}\x00{value}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:BLIND_INDEX_LENGTH]


def blind_index(purpose: str, value: str) -> str:
    """The keyed hash stored beside an encrypted ``value`` (current key); "" for "".
    ``purpose`` separates columns: equal values in two columns do not hash alike."""
    if not value:
        return ""
    return _digest(_index_keys(tuple(settings.BLIND_INDEX_KEYS))[0], purpose, value)


def blind_indexes(purpose: str, value: str) -> Sequence[str]:
    """Every hash ``value`` may be stored under while blind-index keys rotate: look rows up
    with ``<field>__in=blind_indexes(...)``."""
    if not value:
        return [""]
    return [_digest(key, purpose, value) for key in _index_keys(tuple(settings.BLIND_INDEX_KEYS))]
