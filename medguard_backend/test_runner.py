"""`python manage.py test [labels]` runs the pytest suite, so the seed's
`python manage.py test notifications.tests` and `coverage run manage.py test notifications`
work while the tests themselves are written for pytest."""

from __future__ import annotations

from pathlib import Path
from typing import Any


class PytestTestRunner:
    def __init__(
        self, verbosity: int = 1, failfast: bool = False, keepdb: bool = False, **kwargs: Any
    ) -> None:
        self.verbosity = verbosity
        self.failfast = failfast
        self.keepdb = keepdb

    @classmethod
    def add_arguments(cls, parser: Any) -> None:
        parser.add_argument("--keepdb", action="store_true", help="Preserve the test DB")

    def run_tests(self, test_labels: list[str], **kwargs: Any) -> int:
        import pytest

        argv = []
        if self.verbosity == 0:
            argv.append("--quiet")
        elif self.verbosity >= 2:
            argv.append("-" + "v" * (self.verbosity - 1))
        if self.failfast:
            argv.append("--exitfirst")
        if self.keepdb:
            argv.append("--reuse-db")
        # Django labels are dotted: "notifications.tests" is a folder,
        # "notifications.tests.test_policy" a module; pytest wants paths.
        for label in test_labels:
            path = Path(label.replace(".", "/"))
            module = path.with_suffix(".py")
            argv.append(str(module if module.exists() else path))
        return int(pytest.main(argv))
