"""Re-encrypt every encrypted column with the first of FIELD_ENCRYPTION_KEYS and rewrite
every blind index with the first of BLIND_INDEX_KEYS (PRIVACY.md, "Keys and rotation")."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from privacy.encryption.rotation import BATCH_SIZE, encrypted_models, reencrypt_batches, stale_rows


class Command(BaseCommand):
    help = (
        "Re-encrypt personal columns under the current key, in batches, while the service "
        "runs. Run it after putting a new key first in FIELD_ENCRYPTION_KEYS (or "
        "BLIND_INDEX_KEYS); drop the old key only once it has finished."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch-size", type=int, default=BATCH_SIZE, help="Rows per transaction."
        )
        parser.add_argument(
            "--check",
            action="store_true",
            help="Only count the rows not yet under the current key; exit 1 if any.",
        )

    def handle(self, *args: Any, batch_size: int, check: bool, **options: Any) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        stale_total = 0
        for target in encrypted_models():
            if check:
                stale = stale_rows(target)
                stale_total += stale
                self.stdout.write(f"{target.label}: {stale} rows not under the current key")
                continue
            rows = 0
            for written in reencrypt_batches(target, batch_size):
                rows += written
            self.stdout.write(f"{target.label}: {rows} rows re-encrypted")
        if check and stale_total:
            raise CommandError(f"{stale_total} rows are not under the current key yet")
