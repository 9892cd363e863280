"""The running `python3 dev.py`, as it describes itself in var/dev-instance.json.

dev.py starts its processes with the ports it chose (MEDGUARD_PORT, DEV_SMTP_PORT) in their
environment. A command started by hand in another terminal (`python manage.py shell`, a
second worker) does not have that environment; the development settings read this file so
that it still sends to the same SMTP catcher and links to the same site.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class DevInstance:
    pid: int
    site_base_url: str | None
    smtp_port: int | None


def running_dev_instance(path: Path) -> DevInstance | None:
    """The instance described in ``path`` if its dev.py process is still alive."""
    try:
        data = json.loads(path.read_text())
        pid = int(data["pid"])
        os.kill(pid, 0)
    except (OSError, ValueError, KeyError, TypeError):
        # No file, a malformed one, or one left by a dev.py that was killed: not running.
        return None
    smtp_port = data.get("smtp_port")
    site_base_url = data.get("site_base_url")
    return DevInstance(
        pid=pid,
        site_base_url=str(site_base_url) if site_base_url else None,
        smtp_port=int(smtp_port) if smtp_port else None,
    )
