"""Erase a person's data on their request, received outside the app (POPIA s24)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from privacy.models import ErasureRecord
from privacy.services.erasure import erase_person


class Command(BaseCommand):
    help = "Erase a person's account and data for good, recording who asked for it and why."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("user_id", type=int, help="The id of the person to erase.")
        parser.add_argument("--staff", required=True, help="Username of the staff member acting.")
        parser.add_argument("--reason", required=True, help="Why (e.g. the request's reference).")

    def handle(self, *args: Any, user_id: int, staff: str, reason: str, **options: Any) -> None:
        User = get_user_model()
        if not reason.strip():
            raise CommandError("--reason must say why the person is erased.")
        try:
            actor = User.objects.get(username=staff, is_staff=True)
        except User.DoesNotExist:
            raise CommandError(f"no staff member with username {staff!r}") from None
        try:
            person = User.objects.get(pk=user_id)
        except User.DoesNotExist:
            raise CommandError(f"no user with id {user_id}") from None
        record = erase_person(
            person, method=ErasureRecord.Method.STAFF, requested_by=actor, reason=reason
        )
        removed = ", ".join(f"{name}={count}" for name, count in record.removed.items())
        self.stdout.write(f"Erased user {user_id} (erasure record {record.pk}): {removed}")
