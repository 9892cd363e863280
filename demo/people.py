"""Demo people for the README's main command: two patients, a caregiver and staff."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from accounts.models import User

DEMO_PASSWORD = "medguard-demo"  # noqa: S105 - a published demo login, dev only


@dataclass(frozen=True)
class DemoPerson:
    username: str
    first_name: str
    last_name: str
    user_type: str
    language: str
    timezone: str
    phone: str
    superuser: bool = False


DEMO_PEOPLE = (
    DemoPerson(
        "admin",
        "Ayanda",
        "Admin",
        User.UserType.STAFF,
        "en",
        "Africa/Johannesburg",
        "",
        superuser=True,
    ),
    DemoPerson(
        "thandi",
        "Thandi",
        "Mokoena",
        User.UserType.PATIENT,
        "en",
        "Africa/Johannesburg",
        "082 555 0101",
    ),
    DemoPerson(
        "johan",
        "Johan",
        "van der Merwe",
        User.UserType.PATIENT,
        "af",
        "Africa/Johannesburg",
        "083 555 0102",
    ),
    DemoPerson(
        "naledi",
        "Naledi",
        "Dlamini",
        User.UserType.CAREGIVER,
        "en",
        "Africa/Johannesburg",
        "084 555 0103",
    ),
)


@transaction.atomic
def load_demo_people() -> dict[str, User]:
    """Create (or leave as they are) the demo users; safe to run on every start."""
    people: dict[str, User] = {}
    for person in DEMO_PEOPLE:
        user, created = User.objects.get_or_create(
            username=person.username,
            defaults={
                "first_name": person.first_name,
                "last_name": person.last_name,
                "email": f"{person.username}@example.org",
                "user_type": person.user_type,
                "preferred_language": person.language,
                "timezone": person.timezone,
                "phone": person.phone,
                # Set by the clinic (this import), so it counts as verified.
                "phone_verified": bool(person.phone),
                "is_staff": person.superuser,
                "is_superuser": person.superuser,
            },
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        people[person.username] = user
    return people
