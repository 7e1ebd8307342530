"""Logging, configured before the application exists.

Reporters' safety depends on what never reaches a log: no client address, no user agent,
no query string, no report text, no exception text that might quote any of those. So the
request log of Werkzeug and gunicorn is switched off, and every record passes through an
allow-list formatter: the logger name, the level and the message template with only
plain numeric or short identifier arguments.
"""

from __future__ import annotations

import logging
import logging.config
import re
import time
from typing import Any

# Arguments that may be interpolated into a message: numbers, and short identifiers made
# of safe characters (role names, event tags, table names). Anything else is redacted.
_SAFE_ARGUMENT = re.compile(r"[A-Za-z0-9_.:\-]{1,64}")
_REDACTED = "[redacted]"


def _safe(argument: object) -> object:
    if isinstance(argument, bool | int | float):
        return argument
    if isinstance(argument, str) and _SAFE_ARGUMENT.fullmatch(argument):
        return argument
    return _REDACTED


class AllowListFormatter(logging.Formatter):
    """Formats only what is known to be safe; drops exception text and stack traces.

    Tracebacks can carry request data (form values in locals, URLs in messages). The
    exception's type name is kept, which is what an operator needs to find the bug.
    """

    converter = staticmethod(time.gmtime)  # timestamps in UTC (ASVS 16.2.2)

    def format(self, record: logging.LogRecord) -> str:
        args: Any = record.args
        if isinstance(args, tuple):
            message = record.msg % tuple(_safe(a) for a in args) if args else str(record.msg)
        elif isinstance(args, dict):
            message = str(record.msg) % {k: _safe(v) for k, v in args.items()}
        else:
            message = str(record.msg)
        message = message.replace("\r", " ").replace("\n", " ")  # no log injection
        line = f"{self.formatTime(record, '%Y-%m-%dT%H:%M:%SZ')} {record.levelname} "
        line += f"{record.name}: {message}"
        if record.exc_info and record.exc_info[0] is not None:
            line += f" [{record.exc_info[0].__name__}]"
        return line


def configure_logging(level: str = "INFO") -> None:
    """Route every logger through the allow-list formatter; silence request logs."""
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "formatters": {"allow_list": {"()": AllowListFormatter}},
            "handlers": {
                "stderr": {
                    "class": "logging.StreamHandler",
                    "formatter": "allow_list",
                    "stream": "ext://sys.stderr",
                }
            },
            "root": {"level": level, "handlers": ["stderr"]},
            "loggers": {
                # Request logs name client addresses, user agents and query strings.
                "werkzeug": {"level": "ERROR", "handlers": [], "propagate": False},
                "gunicorn.access": {"level": "CRITICAL", "handlers": [], "propagate": False},
                "gunicorn.error": {"level": level, "handlers": ["stderr"], "propagate": False},
                "sqlalchemy": {"level": "WARNING"},
                "alembic": {"level": "WARNING"},
                # The S3 client's INFO and DEBUG lines name credentials' sources, endpoints
                # and object keys: warnings (a retry, a refused request) are enough.
                "botocore": {"level": "WARNING"},
                "boto3": {"level": "WARNING"},
                "s3transfer": {"level": "WARNING"},
                "urllib3": {"level": "WARNING"},
            },
        }
    )

