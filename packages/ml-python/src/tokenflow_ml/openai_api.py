"""OpenAI-compatible /v1/chat/completions and /v1/models for the local model."""

import asyncio
import json
import logging
import threading
import time
import uuid
from collections.abc import AsyncIterator

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse
from opentelemetry import trace

from .inference_pool import Busy
from .local_generation import ContextTooLong, GenerationRequest, UnusableStop
from .local_model import LOCAL_MODEL_ID
from .metrics import ServiceMetrics, model_label
from .model_access import GeneratorSource
from .model_slots import NotReady
from .openai_schemas import ChatCompletionRequest

log = logging.getLogger("tokenflow_ml.generation")


async def acquire(gate: asyncio.Semaphore, wait_s: float) -> bool:
    """Takes a slot, waiting at most `wait_s` (0: only if one is free now)."""
    if not gate.locked():
        await gate.acquire()
        return True
    if wait_s <= 0:
        return False
    try:
        await asyncio.wait_for(gate.acquire(), timeout=wait_s)
    except TimeoutError:
        return False
    return True


def openai_error(status: int, message: str, kind: str, code: str, headers=None) -> JSONResponse:
    return JSONResponse(
        {"error": {"message": message, "type": kind, "code": code}}, status, headers=headers
    )


def openai_router(
    slot: GeneratorSource,
    *,
    concurrency: int,
    wait_s: float,
    default_max_tokens: int,
    metrics: ServiceMetrics,
    tracer: trace.Tracer,
) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["OpenAI-compatible local model"])
    gate = asyncio.Semaphore(concurrency)

    @router.get("/models")
    def models() -> dict:
        data = [{"id": LOCAL_MODEL_ID, "object": "model", "created": 0, "owned_by": "tokenflow"}]
        return {"object": "list", "data": data}

    @router.post("/chat/completions")
    async def chat_completions(request: ChatCompletionRequest, http_request: Request):
        try:
            generator = slot.get()
        except NotReady as error:
            return openai_error(503, str(error), "server_error", "model_not_ready")
        if request.model != generator.model_id:
            message = (
                f"The model {request.model} does not exist; this server has {generator.model_id}"
            )
            return openai_error(404, message, "invalid_request_error", "model_not_found")
        if not await acquire(gate, wait_s):
            metrics.busy.inc()
            reason = "queue_timeout" if wait_s > 0 else "queue_full"
            metrics.busy_rejections.labels("chat", reason).inc()
            message = f"the local model is busy ({concurrency} generation(s) at a time)"
            return openai_error(503, message, "server_error", "busy", {"Retry-After": "2"})

        cancel = threading.Event()
        job = GenerationRequest(
            messages=[m.model_dump() for m in request.messages],
            max_tokens=request.token_limit(default_max_tokens),
            temperature=request.temperature,
            top_p=request.top_p,
            stop=request.stop_list(),
        )
        metrics.generations_in_flight.inc()
        label = model_label(generator.model)
        # Not made current: it ends in finish(), which may run after the response has begun.
        span = tracer.start_span(
            "generate",
            attributes={"tokenflow.model": label, "tokenflow.backend": "transformers"},
        )
        started_at = time.perf_counter()

        def refuse(
            status: int, message: str, code: str, kind: str = "invalid_request_error", headers=None
        ) -> JSONResponse:
            release(code)
            return openai_error(status, message, kind, code, headers)

        def release(code: str) -> None:
            gate.release()
            metrics.generations_in_flight.dec()
            span.set_status(trace.StatusCode.ERROR, code)
            span.end()

        try:
            # Tokenizing a long prompt takes a while: not on the event loop.
            pieces, result, thread = await asyncio.to_thread(generator.generate, job, cancel)
        except NotReady as error:  # a Ray Serve replica still loading, or lost
            return refuse(503, str(error), "model_not_ready", "server_error")
        except Busy as error:  # every Ray Serve generator replica is taken
            metrics.busy.inc()
            metrics.busy_rejections.labels("chat", error.reason).inc()
            return refuse(503, str(error), "busy", "server_error", {"Retry-After": "2"})
        except ContextTooLong as error:
            return refuse(400, str(error), "context_length_exceeded")
        except UnusableStop as error:
            return refuse(400, str(error), "invalid_stop")
        except Exception as error:  # a chat template that rejects the messages, say
            return refuse(400, f"{type(error).__name__}: {error}", "invalid_messages")
        except BaseException:
            # Cancelled (on Ray Serve the proxy cancels a request whose client left): the
            # model may still start, so it is told to stop, and the slot is freed.
            cancel.set()
            release("cancelled")
            raise
        decoding_from = time.perf_counter()

        async def finish() -> None:
            # Runs however the request ends: a client that left stops the model here.
            cancel.set()
            # Shielded: after a disconnect the surrounding scope is cancelled, and the
            # slot must still be freed only once the model has really stopped.
            with anyio.CancelScope(shield=True):
                await asyncio.to_thread(thread.join)
            gate.release()
            ended_at = time.perf_counter()
            metrics.generations_in_flight.dec()
            metrics.tokens.inc(result.completion_tokens)
            outcome = "error" if result.error else "cancelled" if result.cancelled else "completed"
            metrics.generations.labels(outcome).inc()
            metrics.input_tokens.labels("chat").inc(result.prompt_tokens)
            metrics.inference_seconds.labels("chat", label).observe(ended_at - started_at)
            rate = None
            if result.completion_tokens and ended_at > decoding_from:
                rate = result.completion_tokens / (ended_at - decoding_from)
                metrics.tokens_per_second.observe(rate)
            span.set_attributes(
                {
                    "tokenflow.input_tokens": result.prompt_tokens,
                    "tokenflow.output_tokens": result.completion_tokens,
                    "tokenflow.outcome": outcome,
                }
            )
            if result.error:
                span.set_status(trace.StatusCode.ERROR, "generation failed")
            span.end()
            log.info(
                "generation done",
                extra={
                    "model": label,
                    "outcome": outcome,
                    "prompt_tokens": result.prompt_tokens,
                    "completion_tokens": result.completion_tokens,
                    "tokens_per_s": round(rate, 1) if rate else None,
                    "elapsed_ms": round((ended_at - started_at) * 1000, 2),
                },
            )

        completion_id = f"chatcmpl-{uuid.uuid4().hex}"
        created = int(time.time())
        usage = lambda: {  # noqa: E731 - read once the generation has ended
            "prompt_tokens": result.prompt_tokens,
            "completion_tokens": result.completion_tokens,
            "total_tokens": result.prompt_tokens + result.completion_tokens,
        }

        if not request.stream:
            try:
                collecting = asyncio.ensure_future(asyncio.to_thread(lambda: "".join(pieces)))
                # Nothing cancels a plain request when its client leaves: watch for it.
                while not collecting.done():
                    if await http_request.is_disconnected():
                        cancel.set()
                    await asyncio.wait({collecting}, timeout=0.25)
                text = collecting.result()
                await asyncio.to_thread(thread.join)
            finally:
                await finish()
            if result.error:
                return openai_error(500, result.error, "server_error", "generation_failed")
            message = {"role": "assistant", "content": text}
            return {
                "id": completion_id,
                "object": "chat.completion",
                "created": created,
                "model": generator.model_id,
                "choices": [{"index": 0, "message": message, "finish_reason": result.final_reason}],
                "usage": usage(),
            }

        def chunk(delta: dict, finish_reason: str | None = None, **extra) -> str:
            body = {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": generator.model_id,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
                **extra,
            }
            return f"data: {json.dumps(body)}\n\n"

        async def events() -> AsyncIterator[str]:
            try:
                yield chunk({"role": "assistant", "content": ""})
                while (piece := await asyncio.to_thread(next, pieces, None)) is not None:
                    yield chunk({"content": piece})
                await asyncio.to_thread(thread.join)
                if result.error:
                    error = {"message": result.error, "type": "server_error", "code": 500}
                    yield f"data: {json.dumps({'error': error})}\n\n"
                    return
                yield chunk({}, result.final_reason)
                if request.stream_options and request.stream_options.include_usage:
                    body = {
                        "id": completion_id,
                        "object": "chat.completion.chunk",
                        "created": created,
                        "model": generator.model_id,
                        "choices": [],
                        "usage": usage(),
                    }
                    yield f"data: {json.dumps(body)}\n\n"
                yield "data: [DONE]\n\n"
            finally:
                await finish()

        return StreamingResponse(events(), media_type="text/event-stream")

    return router
