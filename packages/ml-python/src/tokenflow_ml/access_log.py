"""Request ids and the access log: one line per request, with the id the gateway sent.

A pure ASGI middleware, outermost, so it also sees what never reaches a route: a refused
token (401), an oversized body (413), an unknown path.
"""

import logging
import re
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .logs import request_id

log = logging.getLogger("tokenflow_ml.access")

HEADER = b"x-request-id"
# What the id may look like: it lands in log lines and a response header, so nothing
# that could break either (spaces, quotes, newlines) and nothing unbounded.
VALID_ID = re.compile(rb"[A-Za-z0-9._:-]{1,128}")
# Polled every few seconds by orchestrators and the gateway: at info they would drown the rest.
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


def incoming_id(scope: Scope) -> str:
    """The caller's x-request-id if it is usable, else a new one."""
    for name, value in scope["headers"]:
        if name == HEADER and VALID_ID.fullmatch(value):
            request_id: str = value.decode()  # the scope's headers are typed Any
            return request_id
    return uuid.uuid4().hex


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = incoming_id(scope)
        token = request_id.set(rid)
        started = time.perf_counter()
        status = 500  # what the client gets if the app fails before it answers

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", []) if k != HEADER]
                message = {**message, "headers": [*headers, (HEADER, rid.encode())]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            duration_ms = round((time.perf_counter() - started) * 1000, 2)
            path = scope["path"]
            log.log(
                logging.DEBUG if path in QUIET_PATHS else logging.INFO,
                "request finished",
                extra={
                    "method": scope["method"],
                    "path": path,
                    "status": status,
                    "duration_ms": duration_ms,
                },
            )
            request_id.reset(token)
