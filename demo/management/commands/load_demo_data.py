from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from demo.medications import load_demo_medications
from demo.notifications import load_demo_notifications
from demo.people import load_demo_people
from notifications.tasks import check_expiring_medications, check_low_stock_alerts


class Command(BaseCommand):
    help = "Load demo people and notifications (development only; idempotent)."

    def handle(self, *args: object, **options: object) -> None:
        if not settings.MEDGUARD_ALLOW_DEMO_DATA:
            raise CommandError("demo data is disabled here (MEDGUARD_ALLOW_DEMO_DATA is off)")
        people = load_demo_people()
        next_dose = load_demo_medications(people)
        # After the medications: each patient's demo reminder is for a medicine of theirs.
        load_demo_notifications(people)
        # The periodic checks run every 6 hours and daily at 09:00; run them now (on the
        # worker, as beat would) so the demo's stock and expiry alerts show at once.
        for task in (check_low_stock_alerts, check_expiring_medications):
            try:
                task.delay()
            except Exception as error:  # the broker may still be starting
                self.stderr.write(f"could not queue {task.name}: {type(error).__name__}")
        self.stdout.write(
            f"demo data ready: {len(people)} people; Thandi's next dose is at "
            f"{next_dose.custom_time:%H:%M}"
        )
