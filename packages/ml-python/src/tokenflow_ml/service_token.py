"""Shared-secret auth: every request but the health probes needs `Authorization: Bearer <token>`.

A pure ASGI middleware rather than a FastAPI dependency, so it also guards what no
dependency reaches: /metrics, /docs, /openapi.json, unknown paths (no route
discovery without the token) and requests refused before routing (413).
"""

import hmac
import logging

from pydantic import SecretStr
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from .openai_errors import openai_error

log = logging.getLogger("tokenflow_ml.auth")

# Orchestrators probe these without credentials; they reveal no prompt or model output.
OPEN_ROUTES = frozenset({("GET", "/healthz"), ("GET", "/readyz")})
CHALLENGE = {"WWW-Authenticate": "Bearer"}


def bearer_token(scope: Scope) -> bytes | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = value.partition(b" ")
            # The scheme is case-insensitive (RFC 9110); the token is not.
            return token.strip() if scheme.lower() == b"bearer" else None
    return None


def unauthorized(path: str, message: str) -> JSONResponse:
    if path == "/v1" or path.startswith("/v1/"):
        # OpenAI's clients read errors in OpenAI's shape; this is what OpenAI sends.
        return openai_error(401, message, "invalid_request_error", "invalid_api_key", CHALLENGE)
    return JSONResponse({"detail": message}, status_code=401, headers=CHALLENGE)


class ServiceTokenMiddleware:
    def __init__(self, app: ASGIApp, token: SecretStr) -> None:
        self.app = app
        self._token = token.get_secret_value().encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan" or (scope.get("method"), scope["path"]) in OPEN_ROUTES:
            await self.app(scope, receive, send)
            return
        given = bearer_token(scope)
        # compare_digest: the time taken must not tell how much of a guess was right.
        if given is not None and hmac.compare_digest(given, self._token):
            await self.app(scope, receive, send)
            return
        if scope["type"] != "http":
            # A WebSocket handshake: no route takes one today, refuse it all the same.
            await send({"type": "websocket.close", "code": 1008})
            return
        # Never echo or log what was sent: a near miss is still most of a secret.
        reason = "missing bearer token" if given is None else "invalid bearer token"
        host = (scope.get("client") or ("unknown", 0))[0]
        log.warning("refused %s %s: %s (from %s)", scope["method"], scope["path"], reason, host)
        hint = ": send 'Authorization: Bearer <ML_SERVICE_TOKEN>'" if given is None else ""
        await unauthorized(scope["path"], reason + hint)(scope, receive, send)
