#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main() -> None:
    # `manage.py test` runs the pytest suite (medguard_backend.test_runner) on test settings.
    default = "test" if sys.argv[1:2] == ["test"] else "dev"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", f"medguard_backend.settings.{default}")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
