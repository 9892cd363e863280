from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from demo.notifications import load_demo_notifications
from demo.people import load_demo_people


class Command(BaseCommand):
    help = "Load demo people and notifications (development only; idempotent)."

    def handle(self, *args: object, **options: object) -> None:
        if not settings.MEDGUARD_ALLOW_DEMO_DATA:
            raise CommandError("demo data is disabled here (MEDGUARD_ALLOW_DEMO_DATA is off)")
        people = load_demo_people()
        load_demo_notifications(people)
        self.stdout.write(f"demo data ready: {len(people)} people")
