"""An email's subject is what a locked phone's mail preview shows: like SMS and push, it names
no medicine unless the person chose so (issue 14, "privacy of message texts"); the body,
read only once the mail is opened, may. Digests: ``test_digest_privacy.py``."""

from __future__ import annotations

import pytest

from notifications.tests.rendering_cases import MEDICATION_EVENTS, render


@pytest.mark.parametrize("language", ["en", "af"])
@pytest.mark.parametrize("event", MEDICATION_EVENTS)
def test_an_email_subject_names_the_medicine_only_if_the_person_chose_so(event, language):
    hidden = render(event, "email", language=language, show_medication_name=False)
    chosen = render(event, "email", language=language, show_medication_name=True)

    assert "Metformin" not in hidden.subject
    assert hidden.subject != ""
    # A caregiver's missed-dose alert names the patient in its subject, never the medicine.
    assert ("Metformin" in chosen.subject) is (event != "missed_dose")
