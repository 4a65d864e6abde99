"""Log records as JSON lines (or plain text), each tagged with the request and trace it belongs to.

A formatter of our own rather than python-json-logger: forty lines, no dependency, and the
field names (time, level, logger, message, request_id, trace_id, span_id) are ours to fix.
"""

import atexit
import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from logging.handlers import QueueHandler, QueueListener
from queue import SimpleQueue
from typing import Literal

from opentelemetry import trace

LogFormat = Literal["json", "text"]

# Set by RequestIdMiddleware for the duration of one request; copied into worker threads.
request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

# What every LogRecord carries; anything else on a record came in through `extra=`.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "color_message",  # uvicorn's ANSI-coloured copy of the message
    "request_id",
    "trace_id",
    "span_id",
}


class ContextFilter(logging.Filter):
    """Adds request_id, trace_id and span_id to each record, from where it was logged."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        context = trace.get_current_span().get_span_context()
        record.trace_id = format(context.trace_id, "032x") if context.is_valid else None
        record.span_id = format(context.span_id, "016x") if context.is_valid else None
        return True


def _context(record: logging.LogRecord) -> dict[str, str]:
    keys = ("request_id", "trace_id", "span_id")
    return {key: value for key in keys if (value := getattr(record, key, None)) is not None}


def _iso_utc(timestamp: float) -> str:
    moment = datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="milliseconds")
    return moment.replace("+00:00", "Z")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": _iso_utc(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **_context(record),
        }
        entry.update((k, v) for k, v in vars(record).items() if k not in _STANDARD)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        fields = {**_context(record)}
        fields.update((k, v) for k, v in vars(record).items() if k not in _STANDARD)
        text = super().format(record)
        first, newline, rest = text.partition("\n")  # fields go on the line of the message
        extra = "".join(f" {key}={value}" for key, value in fields.items())
        return f"{first}{extra}{newline}{rest}"


class _UnformattedQueueHandler(QueueHandler):
    """Queues the record itself: the writer thread formats it (the stock handler formats
    here, in the request's thread, which is the part worth moving)."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        return record


_writer: QueueListener | None = None


def _stop_writer() -> None:
    """Writes out what is still queued; runs at exit, so the last lines are never lost."""
    global _writer
    if _writer is not None:
        _writer.stop()
        _writer = None


atexit.register(_stop_writer)


def configure_logging(level: str, log_format: LogFormat) -> None:
    """One handler on the root logger; uvicorn's loggers propagate to it (see __main__).

    Records are formatted and written on a thread of their own: on two cores, JSON
    formatting and the write were a quarter of the event loop's time per classify
    request, and a slow stderr reader must never stall a request.
    """
    stream = logging.StreamHandler(sys.stderr)
    stream.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler = _UnformattedQueueHandler(SimpleQueue())
    # Here, in the thread that logs: the request id and span live in its context. On the
    # handler, not a logger: it then sees records propagated from every logger.
    handler.addFilter(ContextFilter())
    _stop_writer()
    global _writer
    _writer = QueueListener(handler.queue, stream)
    _writer.start()
    root = logging.getLogger()
    for old in root.handlers[:]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # Library warnings (warnings.warn) become log records, so they are JSON lines as well.
    logging.captureWarnings(True)


def route_transformers_logs() -> None:
    """Sends Transformers' records to our handler instead of its own plain-text one.

    Called where the models load: importing Transformers takes seconds.
    """
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_default_handler()
    transformers_logging.enable_propagation()
