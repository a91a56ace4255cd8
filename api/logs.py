"""One structured JSON line per event.

Events: booking.normalized, rpc.call, booking.confirmed, booking.slot_unavailable,
booking.rejected, auth.failed, rpc.error, org.refused, vapi.event, ... Callers pass only masked
phone numbers and e-mail addresses (see api.normalize.mask_phone / mask_email).
"""

import json
import logging
import sys
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone

logger = logging.getLogger("api.events")
# Fields every event carries while one tool call is handled (toolCallId, orgId), so lower layers
# such as the RPC gateway need not know about Vapi.
_bound: ContextVar[dict] = ContextVar("log_fields", default={})


@contextmanager
def bound(**fields):
    token = _bound.set({**_bound.get(), **fields})
    try:
        yield
    finally:
        _bound.reset(token)


class JsonLineFormatter(logging.Formatter):
    """Formats records produced by log_event() as single-line JSON; others as JSON too."""

    def format(self, record: logging.LogRecord) -> str:
        line = getattr(record, "event_fields", None)
        if line is None:
            line = {"event": "log", "logger": record.name, "message": record.getMessage()}
        entry = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            **line,
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info).splitlines()[-1]
        return json.dumps(entry, default=str, separators=(",", ":"))


def log_event(event: str, level: int = logging.INFO, **fields) -> None:
    logger.log(level, event, extra={"event_fields": {"event": event, **_bound.get(), **fields}})


def configure_logging(level: str = "INFO") -> None:
    """Send every log record to stderr as JSON lines (idempotent; a second call only sets the level).
    Never stdout: that is where an operator command prints its result."""
    root = logging.getLogger()
    if not any(isinstance(h.formatter, JsonLineFormatter) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonLineFormatter())
        root.addHandler(handler)
    root.setLevel(level)
