"""Errors in OpenAI's shape, for every /v1 answer this service refuses (and its auth)."""

from collections.abc import Mapping

from fastapi.responses import JSONResponse

from .openai_schemas import ErrorResponse


def openai_error(
    status: int, message: str, kind: str, code: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    body = ErrorResponse.of(message, kind, code)
    return JSONResponse(body.model_dump(), status, headers=headers)
