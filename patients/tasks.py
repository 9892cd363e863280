"""Celery tasks of the patient pages (default queue, as the clinic's): the text message of a
caregiver invitation by phone. Arguments are ids only: never the number or the link."""

from __future__ import annotations

from celery import shared_task

from . import invitation_sms


@shared_task(ignore_result=True)
def send_invitation_sms(invitation_id: int) -> str:
    """Send one invitation's SMS if it is still due (a repeat of the message sends nothing)."""
    return invitation_sms.send(invitation_id)


@shared_task(ignore_result=True)
def sweep_invitation_sms() -> dict[str, int]:
    """Re-publish due invitation SMS and hand back claims of dead workers (every minute)."""
    return invitation_sms.sweep()
