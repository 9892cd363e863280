"""The events a notification can be about, and the facts (context keys) each carries.

Templates are found by convention at ``notifications/<event>/<part>`` (see
``models.TemplatePart``); an active ``NotificationTemplate`` row overrides a file.
Events with ``mentions_medication`` must keep the medication name out of SMS and push
unless the recipient chose to see it (the ``show_medication_name`` template variable).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Event:
    key: str
    context_keys: tuple[str, ...]
    mentions_medication: bool = False


EVENTS: dict[str, Event] = {
    event.key: event
    for event in (
        # Free text written by a person (create_notification, system notifications):
        # the notification's own title and content, shown as written.
        Event("custom", ()),
        Event(
            "medication_reminder",
            ("medication_name", "dosage", "instructions", "dose_time"),
            mentions_medication=True,
        ),
        Event(
            "missed_dose",
            ("patient_name", "dose_time", "dose_time_zone", "medication_name"),
            mentions_medication=True,
        ),
        Event(
            "low_stock",
            ("medication_name", "days_of_supply", "run_out_date", "quantity_on_hand", "unit"),
            mentions_medication=True,
        ),
        Event(
            "expiry_warning",
            ("medication_name", "expiry_date", "days_until_expiry"),
            mentions_medication=True,
        ),
        Event("medication_expired", ("medication_name", "expiry_date"), mentions_medication=True),
        # Sent from the admin to check that a channel works.
        Event("test", ()),
    )
}
