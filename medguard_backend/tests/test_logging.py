from __future__ import annotations

import logging

import pytest

from medguard_backend.logging import RedactContactDetails


def filtered_message(msg: str, *args: object) -> str:
    record = logging.LogRecord("t", logging.INFO, __file__, 1, msg, args, None)
    RedactContactDetails().filter(record)
    return record.getMessage()


@pytest.mark.parametrize(
    "text",
    ["+27821234567", "+27 82 123 4567", "082 123 4567", "0821234567", "thandi@example.org"],
)
def test_contact_details_are_redacted(text: str) -> None:
    assert filtered_message("SMTP refused %s: mailbox full", text) == (
        "SMTP refused [redacted]: mailbox full"
    )


@pytest.mark.parametrize(
    "text", ["delivery 12345 sent", "due 2026-11-28 08:00", "batch of 500 in 0.25s"]
)
def test_ids_dates_and_counts_are_kept(text: str) -> None:
    assert filtered_message(text) == text
