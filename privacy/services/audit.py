"""Writing and reading the audit trail of access to patient data."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.db.models import QuerySet

from medguard_backend import request_context
from privacy.models import AuditEntry
from privacy.redaction import redact_contact_details

if TYPE_CHECKING:
    from django.http import HttpRequest

    from accounts.models import User


def client_ip(request: HttpRequest | None) -> str | None:
    """The caller's address as the server saw it. Behind a proxy this is the proxy's unless
    the proxy rewrites REMOTE_ADDR (gunicorn's forwarded-allow-ips does): a client-supplied
    X-Forwarded-For is not trusted, since anyone can forge it."""
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def record(
    *,
    subject_id: int | None,
    actor: User | None,
    action: str,
    resource: str,
    object_id: object = "",
    what: str = "",
    ip_address: str | None = None,
) -> AuditEntry:
    """Append one entry. ``what`` names fields or kinds of record, never their values.
    Without ``ip_address``, the address of the request being handled (if any)."""
    role = ""
    if actor is not None:
        role = "staff" if actor.is_staff else actor.user_type
        if actor.pk == subject_id:
            role = "self"
    return AuditEntry.objects.create(
        subject_id=subject_id,
        actor=actor,
        actor_role=role,
        action=action,
        resource=resource,
        object_id=str(object_id or ""),
        what=redact_contact_details(what)[:300],
        ip_address=ip_address or request_context.client_ip(),
    )


def record_many(
    *,
    actor: User,
    action: str,
    resource: str,
    subjects: Sequence[tuple[int | None, object]],
    what: str = "",
    ip_address: str | None = None,
) -> list[AuditEntry]:
    """One entry per (subject id, object id), as ``record`` writes it, in one INSERT: an
    admin action on many rows."""
    role = "staff" if actor.is_staff else actor.user_type
    return AuditEntry.objects.bulk_create(
        [
            AuditEntry(
                subject_id=subject_id,
                actor=actor,
                actor_role="self" if actor.pk == subject_id else role,
                action=action,
                resource=resource,
                object_id=str(object_id or ""),
                what=redact_contact_details(what)[:300],
                ip_address=ip_address or request_context.client_ip(),
            )
            for subject_id, object_id in subjects
        ]
    )


def entries_about(user_id: int) -> QuerySet[AuditEntry]:
    return AuditEntry.objects.filter(subject_id=user_id).order_by("-at", "-pk")
