"""Everything held about a person, as one JSON document written piece by piece.

POPIA s23 gives a person the right to see what is held about them. The document is produced
as a stream of text chunks: each section's rows are read with ``iterator()`` in chunks and
encoded one at a time, so a patient with 100,000 notifications costs the memory of one chunk,
not of the whole history (``privacy/tests/test_export.py`` pins it).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Q, QuerySet
from django.utils import timezone

from medications.models import CaregiverLink, Dose, Schedule, Supply
from notifications.models import Delivery, NotificationRecipient, PushDevice
from privacy.models import AuditEntry, ConsentRecord
from privacy.services.consent import current_consents

if TYPE_CHECKING:
    from accounts.models import User

FORMAT = "medguard-export/1"
CHUNK_ROWS = 1000
# Secrets and internals, not information about the person.
PROFILE_EXCLUDED = frozenset({"password"})


class _Encoder(DjangoJSONEncoder):
    def default(self, o: Any) -> Any:
        try:
            return super().default(o)
        except TypeError:
            return str(o)  # time zones, phone numbers


def _dumps(value: object) -> str:
    return json.dumps(value, cls=_Encoder, ensure_ascii=False)


def _rows(queryset: QuerySet[Any], fields: Iterable[str]) -> Iterator[dict[str, Any]]:
    names = tuple(fields)
    for row in queryset.values_list(*names).iterator(chunk_size=CHUNK_ROWS):
        yield dict(zip(names, row, strict=True))


def _array(rows: Iterable[object]) -> Iterator[str]:
    """A JSON array, in chunks of about CHUNK_ROWS rows each."""
    yield "["
    buffer: list[str] = []
    first = True
    for row in rows:
        buffer.append(("" if first else ",") + _dumps(row))
        first = False
        if len(buffer) >= CHUNK_ROWS:
            yield "".join(buffer)
            buffer.clear()
    yield "".join(buffer) + "]"


def _profile(user: User) -> dict[str, Any]:
    return {
        field.name: getattr(user, field.attname)
        for field in get_user_model()._meta.concrete_fields
        if field.name not in PROFILE_EXCLUDED
    }


def _preferences(user: User) -> dict[str, Any]:
    from notifications.models import UserNotificationPreferences

    prefs = UserNotificationPreferences.objects.filter(user=user).first()
    if prefs is None:
        prefs = UserNotificationPreferences(user=user)
    return {
        field.name: getattr(prefs, field.attname)
        for field in prefs._meta.concrete_fields
        if field.name not in ("id", "user")
    }


def _tables(user: User) -> tuple[tuple[str, QuerySet[Any], tuple[str, ...]], ...]:
    """(section, rows about ``user``, the columns exported), in the document's order."""
    return (
        (
            "consent_history",
            ConsentRecord.objects.filter(user=user).order_by("recorded_at", "pk"),
            ("purpose", "granted", "method", "wording_version", "reason", "recorded_at"),
        ),
        (
            "medicines",
            Supply.objects.filter(patient=user).order_by("pk"),
            (
                "id",
                "medicine__name",
                "medicine__strength",
                "medicine__form",
                "dosage",
                "instructions",
                "quantity_on_hand",
                "unit",
                "expiry_date",
                "active",
                "created_at",
            ),
        ),
        (
            "schedules",
            Schedule.objects.filter(supply__patient=user).order_by("pk"),
            (
                "id",
                "supply_id",
                "slot",
                "custom_time",
                "dose_quantity",
                "days_of_week",
                "start_date",
                "end_date",
                "paused",
            ),
        ),
        (
            "doses",
            Dose.objects.filter(schedule__supply__patient=user).order_by("pk"),
            (
                "id",
                "schedule_id",
                "due_at",
                "status",
                "reminded_at",
                "snoozed_until",
                "recorded_at",
                "missed_at",
            ),
        ),
        (
            "notifications",
            NotificationRecipient.objects.filter(user=user).order_by("pk"),
            (
                "notification_id",
                "notification__title",
                "notification__content",
                "notification__notification_type",
                "notification__priority",
                "notification__created_at",
                "status",
                "read_at",
                "acknowledged_at",
                "dismissed_at",
            ),
        ),
        (
            "deliveries",
            Delivery.objects.filter(recipient__user=user).order_by("pk"),
            (
                "id",
                "recipient__notification_id",
                "channel",
                "status",
                "not_before",
                "sent_at",
                "attempts",
                "last_error",
            ),
        ),
        (
            "push_devices",
            PushDevice.objects.filter(user=user).order_by("pk"),
            ("id", "kind", "platform", "device_model", "active", "created_at", "last_used_at"),
        ),
        (
            "caregiver_links",
            CaregiverLink.objects.filter(Q(patient=user) | Q(caregiver=user)).order_by("pk"),
            (
                "id",
                "patient_id",
                "patient__username",
                "caregiver_id",
                "caregiver__username",
                "can_see_medication_details",
                "receives_stock_alerts",
                "active",
                "created_at",
            ),
        ),
        (
            "audit",
            AuditEntry.objects.filter(subject=user).order_by("at", "pk"),
            (
                "at",
                "actor_id",
                "actor_role",
                "action",
                "resource",
                "object_id",
                "what",
                "ip_address",
            ),
        ),
    )


def sections(user: User) -> Iterator[tuple[str, Iterator[str] | object]]:
    """(name, value) per section; a value is either plain data or a chunked array."""
    yield "profile", _profile(user)
    yield "preferences", _preferences(user)
    yield "consents", [state.__dict__ for state in current_consents(user)]
    for name, rows, columns in _tables(user):
        yield name, _array(_rows(rows, columns))


def export_chunks(user: User) -> Iterator[str]:
    """The export document as text chunks; join them for the whole."""
    yield "{" + _dumps("format") + ":" + _dumps(FORMAT)
    yield "," + _dumps("generated_at") + ":" + _dumps(timezone.now())
    for name, value in sections(user):
        yield "," + _dumps(name) + ":"
        if isinstance(value, Iterator):
            yield from value
        else:
            yield _dumps(value)
    yield "}"
