"""OpenAI-compatible /v1/chat/completions and /v1/models for the local model.

The generation itself (admission, start, finish) is in chat_session.py; this module
answers with it, in one body or as a stream of chat.completion.chunk events.
"""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from fastapi.sse import EventSourceResponse, format_sse_event
from opentelemetry import trace
from pydantic import BaseModel

from .chat_session import ChatRoute, Generation, Refusal, admit, finish, start
from .local_model import LOCAL_MODEL_ID
from .metrics import ServiceMetrics
from .model_access import GeneratorSource
from .openai_errors import openai_error
from .openai_schemas import (
    AssistantMessage,
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionRequest,
    ChoiceDelta,
    ChunkChoice,
    CompletionChoice,
    ErrorResponse,
    ModelCard,
    ModelList,
    Usage,
)

# What FastAPI's own SSE routes send, so no proxy buffers or caches the stream.
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
DONE = "[DONE]"


async def whole_response(
    route: ChatRoute, generation: Generation, http_request: Request
) -> ChatCompletion | JSONResponse:
    """The answer in one body, once the model is done."""
    try:
        collecting = asyncio.ensure_future(asyncio.to_thread(lambda: "".join(generation.pieces)))
        # Nothing cancels a plain request when its client leaves: watch for it.
        while not collecting.done():
            if await http_request.is_disconnected():
                generation.cancel.set()
            await asyncio.wait({collecting}, timeout=0.25)
        text = collecting.result()
        await asyncio.to_thread(generation.thread.join)
    finally:
        await finish(route, generation)
    result = generation.result
    if result.error:
        return openai_error(500, result.error, "server_error", "generation_failed")
    choice = CompletionChoice(
        message=AssistantMessage(content=text), finish_reason=result.final_reason
    )
    return ChatCompletion(
        id=generation.id,
        created=generation.created,
        model=generation.model.model_id,
        choices=[choice],
        usage=generation.usage(),
    )


def chunk(
    generation: Generation, choices: list[ChunkChoice], usage: Usage | None = None
) -> ChatCompletionChunk:
    return ChatCompletionChunk(
        id=generation.id,
        created=generation.created,
        model=generation.model.model_id,
        choices=choices,
        usage=usage,
    )


def error_chunk(message: str) -> ErrorResponse:
    """A failure after the stream began (the status is sent by then), as the gateway says one."""
    return ErrorResponse.of(message, "server_error", "generation_failed")


def sse(event: BaseModel | str) -> bytes:
    """One `data:` frame: a model as compact JSON, or a raw string such as [DONE]."""
    data = event if isinstance(event, str) else event.model_dump_json()
    return format_sse_event(data_str=data)


async def stream_chunks(
    route: ChatRoute, generation: Generation, include_usage: bool
) -> AsyncIterator[bytes]:
    """The answer as OpenAI's chat.completion.chunk events, token by token, then [DONE]."""
    try:
        delta = ChoiceDelta(role="assistant", content="")
        yield sse(chunk(generation, [ChunkChoice(delta=delta)]))
        while (piece := await asyncio.to_thread(next, generation.pieces, None)) is not None:
            yield sse(chunk(generation, [ChunkChoice(delta=ChoiceDelta(content=piece))]))
        await asyncio.to_thread(generation.thread.join)
        result = generation.result
        if result.error:
            yield sse(error_chunk(result.error))
            return
        last = ChunkChoice(delta=ChoiceDelta(), finish_reason=result.final_reason)
        yield sse(chunk(generation, [last]))
        if include_usage:
            yield sse(chunk(generation, [], generation.usage()))
        yield sse(DONE)
    finally:
        await finish(route, generation)


def openai_router(
    source: GeneratorSource,
    *,
    concurrency: int,
    wait_s: float,
    default_max_tokens: int,
    metrics: ServiceMetrics,
    tracer: trace.Tracer,
) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["OpenAI-compatible local model"])
    route = ChatRoute(
        source=source,
        gate=asyncio.Semaphore(concurrency),
        concurrency=concurrency,
        wait_s=wait_s,
        default_max_tokens=default_max_tokens,
        metrics=metrics,
        tracer=tracer,
    )
    refusals: dict[int | str, dict[str, Any]] = {
        status: {"model": ErrorResponse} for status in (400, 404, 500, 503)
    }

    @router.get("/models")
    def models() -> ModelList:
        return ModelList(data=[ModelCard(id=LOCAL_MODEL_ID)])

    @router.post("/chat/completions", response_model=ChatCompletion, responses=refusals)
    async def chat_completions(
        request: ChatCompletionRequest, http_request: Request
    ) -> ChatCompletion | Response:
        try:
            model = await admit(route, request)
            generation = await start(route, request, model)
        except Refusal as refusal:
            return refusal.response()
        if not request.stream:
            return await whole_response(route, generation, http_request)
        include_usage = bool(request.stream_options and request.stream_options.include_usage)
        # The class FastAPI's SSE routes answer with; this route cannot be a generator
        # itself, since it answers some requests with JSON (refusals, stream=false).
        events = stream_chunks(route, generation, include_usage)
        return EventSourceResponse(events, headers=SSE_HEADERS)

    return router
