"""A local chat generation from admission to its end, in OpenAI's error shape.

A chat request goes through `admit` (the model is there and a slot is free), `start` (the
model takes the prompt), then the route's response; `finish` frees the slot and records
the generation however the request ends.
"""

import asyncio
import logging
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

import anyio
from fastapi.responses import JSONResponse
from opentelemetry import trace

from .inference_pool import Busy
from .local_generation import (
    ChatModel,
    ContextTooLong,
    GenerationRequest,
    GenerationResult,
    Joinable,
    UnusableStop,
)
from .metrics import ServiceMetrics, model_label
from .model_access import GeneratorSource
from .model_slots import NotReady
from .openai_errors import openai_error
from .openai_schemas import ChatCompletionRequest, Usage

log = logging.getLogger("tokenflow_ml.generation")

RETRY_BUSY = {"Retry-After": "2"}


class Refusal(Exception):
    """A request turned away in OpenAI's error shape, before any text was generated."""

    def __init__(
        self,
        status: int,
        message: str,
        code: str,
        kind: str = "invalid_request_error",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.kind = status, message, code, kind
        self.headers = headers

    def response(self) -> JSONResponse:
        return openai_error(self.status, self.message, self.kind, self.code, self.headers)


@dataclass(frozen=True)
class ChatRoute:
    """What every chat request shares: the model, its slots and where its work is recorded."""

    source: GeneratorSource
    gate: asyncio.Semaphore
    concurrency: int
    wait_s: float
    default_max_tokens: int
    metrics: ServiceMetrics
    tracer: trace.Tracer


@dataclass
class Generation:
    """One generation under way; it holds a slot until `finish`."""

    model: ChatModel
    pieces: Iterator[str]
    #: Final once `thread` has ended.
    result: GenerationResult
    thread: Joinable
    cancel: threading.Event
    span: trace.Span
    label: str
    started_at: float
    decoding_from: float
    id: str = field(default_factory=lambda: f"chatcmpl-{uuid.uuid4().hex}")
    created: int = field(default_factory=lambda: int(time.time()))

    def usage(self) -> Usage:
        prompt, completion = self.result.prompt_tokens, self.result.completion_tokens
        return Usage(
            prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion
        )


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


async def admit(route: ChatRoute, request: ChatCompletionRequest) -> ChatModel:
    """The model the request names, with a generation slot taken for it."""
    try:
        model = route.source.get()
    except NotReady as error:
        raise Refusal(503, str(error), "model_not_ready", "server_error") from error
    if request.model != model.model_id:
        message = f"The model {request.model} does not exist; this server has {model.model_id}"
        raise Refusal(404, message, "model_not_found")
    if not await acquire(route.gate, route.wait_s):
        reason = "queue_timeout" if route.wait_s > 0 else "queue_full"
        message = f"the local model is busy ({route.concurrency} generation(s) at a time)"
        raise busy_refusal(route, reason, message)
    return model


def busy_refusal(route: ChatRoute, reason: str, message: str) -> Refusal:
    """A 503 to retry later, counted: no slot here, or no Ray Serve replica free."""
    route.metrics.busy.inc()
    route.metrics.busy_rejections.labels("chat", reason).inc()
    return Refusal(503, message, "busy", "server_error", RETRY_BUSY)


def free_slot(route: ChatRoute, span: trace.Span, code: str) -> None:
    """Gives back the slot of a generation that never started."""
    route.gate.release()
    route.metrics.generations_in_flight.dec()
    span.set_status(trace.StatusCode.ERROR, code)
    span.end()


async def start(route: ChatRoute, request: ChatCompletionRequest, model: ChatModel) -> Generation:
    """Starts the model on the request, in the slot `admit` took (given back on a refusal)."""
    cancel = threading.Event()
    job = GenerationRequest(
        messages=[m.model_dump() for m in request.messages],
        max_tokens=request.token_limit(route.default_max_tokens),
        temperature=request.temperature,
        top_p=request.top_p,
        stop=request.stop_list(),
    )
    route.metrics.generations_in_flight.inc()
    label = model_label(model.model)
    # Not made current: it ends in finish(), which may run after the response has begun.
    span = route.tracer.start_span(
        "generate", attributes={"tokenflow.model": label, "tokenflow.backend": "transformers"}
    )
    started_at = time.perf_counter()
    try:
        # Tokenizing a long prompt takes a while: not on the event loop.
        pieces, result, thread = await asyncio.to_thread(model.generate, job, cancel)
    except Exception as error:
        refusal = refusal_for(route, error)
        free_slot(route, span, refusal.code)
        raise refusal from error
    except BaseException:
        # Cancelled (on Ray Serve the proxy cancels a request whose client left): the
        # model may still start, so it is told to stop, and the slot is freed.
        cancel.set()
        free_slot(route, span, "cancelled")
        raise
    return Generation(
        model=model,
        pieces=pieces,
        result=result,
        thread=thread,
        cancel=cancel,
        span=span,
        label=label,
        started_at=started_at,
        decoding_from=time.perf_counter(),
    )


def refusal_for(route: ChatRoute, error: Exception) -> Refusal:
    """How a model that would not start is reported: its fault 503, the caller's 400."""
    match error:
        case NotReady():  # a Ray Serve replica still loading, or lost
            return Refusal(503, str(error), "model_not_ready", "server_error")
        case Busy():  # every Ray Serve generator replica is taken
            return busy_refusal(route, error.reason, str(error))
        case ContextTooLong():
            return Refusal(400, str(error), "context_length_exceeded")
        case UnusableStop():
            return Refusal(400, str(error), "invalid_stop")
        case _:  # a chat template that rejects the messages, say
            return Refusal(400, f"{type(error).__name__}: {error}", "invalid_messages")


async def finish(route: ChatRoute, generation: Generation) -> None:
    """Stops the model, frees its slot and records the generation: runs however it ends."""
    result, metrics, span = generation.result, route.metrics, generation.span
    # A client that left stops the model here.
    generation.cancel.set()
    # Shielded: after a disconnect the surrounding scope is cancelled, and the
    # slot must still be freed only once the model has really stopped.
    with anyio.CancelScope(shield=True):
        await asyncio.to_thread(generation.thread.join)
    route.gate.release()
    ended_at = time.perf_counter()
    metrics.generations_in_flight.dec()
    metrics.tokens.inc(result.completion_tokens)
    outcome = "error" if result.error else "cancelled" if result.cancelled else "completed"
    metrics.generations.labels(outcome).inc()
    metrics.input_tokens.labels("chat").inc(result.prompt_tokens)
    elapsed_s = ended_at - generation.started_at
    metrics.inference_seconds.labels("chat", generation.label).observe(elapsed_s)
    rate = None
    if result.completion_tokens and ended_at > generation.decoding_from:
        rate = result.completion_tokens / (ended_at - generation.decoding_from)
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
            "model": generation.label,
            "outcome": outcome,
            "prompt_tokens": result.prompt_tokens,
            "completion_tokens": result.completion_tokens,
            "tokens_per_s": round(rate, 1) if rate else None,
            "elapsed_ms": round(elapsed_s * 1000, 2),
        },
    )
