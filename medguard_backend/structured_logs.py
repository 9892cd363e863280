"""One JSON object per log line (``LOG_FORMAT=json``), for a log shipper.

Each line carries the request id and the task id (and name) of the work it belongs to.
The redaction filters run before the formatter, on the handler, so they apply here too.
"""

from __future__ import annotations

import logging
from typing import Any

from pythonjsonlogger.json import JsonFormatter as BaseJsonFormatter

from . import request_context


class JsonFormatter(BaseJsonFormatter):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("fmt", "%(levelname)s %(name)s %(process)d %(message)s")
        kwargs.setdefault("rename_fields", {"levelname": "level"})
        # ISO 8601 in UTC, under "time".
        kwargs.setdefault("timestamp", "time")
        super().__init__(*args, **kwargs)

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        super().add_fields(log_data, record, message_dict)
        for key, value in request_context.current().items():
            if value is not None:
                log_data[key] = value
