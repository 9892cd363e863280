"""A person's signed-in devices (API tokens) and web sessions: listing and ending them."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.contrib.sessions.models import Session
from django.utils import timezone
from knox.models import AuthToken

if TYPE_CHECKING:
    from accounts.models import User

SESSION_SCAN_CHUNK = 2000


@dataclass(frozen=True)
class SignIn:
    id: str  # derived from the digest: names the token without revealing any of it
    created: datetime
    expiry: datetime | None
    current: bool


def sign_in_id(digest: str) -> str:
    return hashlib.sha256(digest.encode()).hexdigest()[:16]


def sign_ins(user: User, current_digest: str | None) -> list[SignIn]:
    now = timezone.now()
    return [
        SignIn(
            sign_in_id(token.digest), token.created, token.expiry, token.digest == current_digest
        )
        for token in AuthToken.objects.filter(user=user).order_by("-created")
        if token.expiry is None or token.expiry > now
    ]


def sign_out_device(user: User, sign_in: str) -> bool:
    for digest in AuthToken.objects.filter(user=user).values_list("digest", flat=True):
        if sign_in_id(digest) == sign_in:
            AuthToken.objects.filter(digest=digest).delete()
            return True
    return False


def sign_out_everywhere(user: User) -> dict[str, int]:
    """End every API token and every web session of ``user``. Sessions record their user
    only inside their encoded data, so the live ones are read in chunks to find them: a
    rare, deliberate action, not a hot path."""
    tokens = AuthToken.objects.filter(user=user).delete()[0]
    mine: list[str] = []
    live = Session.objects.filter(expire_date__gt=timezone.now()).order_by("session_key")
    for session in live.iterator(chunk_size=SESSION_SCAN_CHUNK):
        if session.get_decoded().get("_auth_user_id") == str(user.pk):
            mine.append(session.session_key)
    sessions = Session.objects.filter(session_key__in=mine).delete()[0]
    return {"tokens": tokens, "sessions": sessions}
