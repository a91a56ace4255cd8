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


class JsonLineHandler(logging.StreamHandler):
    """A StreamHandler that builds the line before taking the handler's lock.

    logging.Handler.handle holds the handler's lock while it formats and writes, and the threads of a
    gunicorn worker queue on that lock (py-spy at 16 clients: a fifth of the request threads' samples
    wait there, most of it for the write itself). Formatting outside the lock shortens each hold; the
    write and flush of the finished line stay serialised, so lines never interleave."""

    def handle(self, record: logging.LogRecord) -> bool:
        kept = self.filter(record)
        if not kept:
            return False
        if isinstance(kept, logging.LogRecord):  # Python 3.12+: a filter may return a replacement
            record = kept
        try:
            line = self.format(record) + self.terminator
        except Exception:
            self.handleError(record)
            return True
        with self.lock:
            try:
                self.stream.write(line)
                self.flush()
            except RecursionError:
                raise
            except Exception:
                self.handleError(record)
        return True


def configure_logging(level: str = "INFO") -> None:
    """Send every log record to stderr as JSON lines (idempotent; a second call only sets the level).
    Never stdout: that is where an operator command prints its result."""
    root = logging.getLogger()
    if not any(isinstance(h.formatter, JsonLineFormatter) for h in root.handlers):
        handler = JsonLineHandler(sys.stderr)
        handler.setFormatter(JsonLineFormatter())
        root.addHandler(handler)
    root.setLevel(level)
