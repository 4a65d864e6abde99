"""HTTP routes of the ML service. Model code lives in classification.py and compression/."""

import logging
import time
from collections.abc import Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, TypeVar

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from . import __version__
from .access_log import RequestIdMiddleware
from .batching import Batcher, BatchStats
from .body_limit import BodyLimitMiddleware
from .classification import Classifier, ClassifyCall, Scores
from .client_gone import ClientGone, unless_client_leaves
from .compression import Compressor, UnsupportedOption, create_compressor
from .inference_pool import Busy, InferencePool
from .local_generation import LocalGenerator
from .local_model import LOCAL_MODEL_ID
from .metrics import Endpoint, ServiceMetrics, estimate_tokens, model_label
from .model_slots import ModelSlot, NotReady, load_in_background
from .openai_api import openai_error, openai_router
from .routing.serving import create_classifier
from .schemas import (
    ClassifyRequest,
    ClassifyResponse,
    CompressRequest,
    CompressResponse,
    ErrorBody,
    Label,
    QueueStatus,
    Readiness,
)
from .service_token import ServiceTokenMiddleware
from .settings import Settings
from .tracing import setup_tracing, shutdown_tracing

if TYPE_CHECKING:
    from opentelemetry.sdk.trace.export import SpanExporter

log = logging.getLogger("tokenflow_ml")
T = TypeVar("T")

# Seconds a client should wait: a full queue drains fast; a model loads slowly.
RETRY_BUSY_S = 1
RETRY_LOADING_S = 5


def _describe_validation(error: RequestValidationError) -> str:
    parts = []
    for issue in error.errors():
        where = ".".join(str(p) for p in issue["loc"] if p != "body")
        parts.append(f"{where}: {issue['msg']}" if where else issue["msg"])
    return "; ".join(parts)


def create_app(
    settings: Settings | None = None, *, span_exporter: "SpanExporter | None" = None
) -> FastAPI:
    """The service; `span_exporter` turns tracing on with it (tests), else the OTEL_* env does."""
    settings = settings or Settings()

    classifier: ModelSlot[Classifier] = ModelSlot(
        name="classifier",
        backend=settings.classifier_backend,
        model=settings.classifier_model_id(),
        loader=lambda: create_classifier(settings),
    )
    compressor: ModelSlot[Compressor] = ModelSlot(
        name="compressor",
        backend=settings.compressor_backend,
        model=settings.compressor_model_id(),
        loader=lambda: create_compressor(
            settings.compressor_backend,
            settings.compressor_model_id(),
            settings.device,
            settings.compressor_runtime,
            settings.torch_threads,
        ),
    )
    slots: list[ModelSlot] = [classifier, compressor]
    generator: ModelSlot[LocalGenerator] = ModelSlot(
        name="generator",
        backend="transformers",
        model=settings.generator_model_id(),
        loader=lambda: LocalGenerator(
            settings.generator_model_id(), LOCAL_MODEL_ID, settings.device
        ),
    )
    if settings.generator_enabled:
        slots.append(generator)
    metrics_registry = CollectorRegistry()
    pool = InferencePool(settings.workers, settings.max_queue, settings.max_queue_wait_s)

    def classify_batch(calls: list[ClassifyCall]) -> list[Scores]:
        return classifier.get().classify_batch(calls)

    classifier_tag = model_label(classifier.model)

    def batch_done(stats: BatchStats) -> None:
        metrics.batch_size.labels("classify").observe(stats.size)
        metrics.inference_seconds.labels("classify", classifier_tag).observe(stats.seconds)
        for wait in stats.waits:
            metrics.queue_wait_seconds.labels("classify").observe(wait)

    # Classification has its own thread and queue, and batches: compression (pool) cannot
    # hold it up, and concurrent prompts share one encoder pass.
    classifying = Batcher(
        "classify",
        classify_batch,
        max_batch=settings.classify_max_batch,
        max_pending=settings.classify_max_queue,
        max_wait_s=settings.max_queue_wait_s,
        on_batch=batch_done,
    )
    metrics = ServiceMetrics(metrics_registry, [pool, classifying], slots)

    @asynccontextmanager
    async def lifespan(_: FastAPI):
        import torch

        # Explicit, so several services on one machine do not oversubscribe the cores.
        torch.set_num_threads(settings.torch_threads)
        load_in_background(slots)
        yield
        pool.shutdown()
        classifying.shutdown()
        shutdown_tracing(app)

    app = FastAPI(
        title="TokenFlow ML service",
        version=__version__,
        description="Prompt classification and compression for the TokenFlow gateway.",
        lifespan=lifespan,
    )
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    # Added after the body limit, so it runs before it: a caller without the token learns
    # nothing, not even 413.
    if settings.service_token is not None:
        app.add_middleware(ServiceTokenMiddleware, token=settings.service_token)
    elif settings.serves_openly():
        log.warning(
            "serving on %s without ML_SERVICE_TOKEN (ML_ALLOW_NO_AUTH is set): anyone who "
            "can reach this port can use the ML service",
            settings.host,
        )
    # Outermost of ours: refused requests get an id and an access line too.
    app.add_middleware(RequestIdMiddleware)
    tracer = setup_tracing(app, span_exporter)
    started = time.monotonic()

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        message = _describe_validation(error)
        if request.url.path.startswith("/v1/"):
            # OpenAI's clients read errors in OpenAI's shape and status.
            return openai_error(400, message, "invalid_request_error", "invalid_request")
        return JSONResponse({"detail": message}, status_code=422)

    @app.exception_handler(UnsupportedOption)
    async def unsupported(_: Request, error: UnsupportedOption) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=422)

    @app.exception_handler(Busy)
    async def busy(_: Request, error: Busy) -> JSONResponse:
        headers = {"Retry-After": str(RETRY_BUSY_S)}
        return JSONResponse({"detail": f"the ML service is busy: {error}"}, 503, headers)

    @app.exception_handler(ClientGone)
    async def client_gone(_: Request, _error: ClientGone) -> Response:
        # Nobody reads this; 499 (nginx's "client closed request") keeps the access log honest.
        return Response(status_code=499)

    @app.exception_handler(NotReady)
    async def not_ready(_: Request, error: NotReady) -> JSONResponse:
        headers = {} if error.failed else {"Retry-After": str(RETRY_LOADING_S)}
        return JSONResponse({"detail": str(error)}, 503, headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        log.exception("unexpected error in %s", request.url.path)
        detail = f"internal error in {request.url.path}: {type(error).__name__}: {error}"
        return JSONResponse({"detail": detail}, status_code=500)

    @app.get("/metrics", include_in_schema=False)
    def scrape() -> Response:
        return Response(generate_latest(metrics_registry), media_type=CONTENT_TYPE_LATEST)

    if settings.generator_enabled:
        app.include_router(
            openai_router(
                generator,
                concurrency=settings.generation_concurrency,
                wait_s=settings.generation_wait_s,
                default_max_tokens=settings.generation_default_max_tokens,
                metrics=metrics,
                tracer=tracer,
            )
        )

    responses = {
        413: {"model": ErrorBody, "description": "Request body too large"},
        422: {"model": ErrorBody, "description": "Invalid input or unsupported option"},
        503: {"model": ErrorBody, "description": "Busy (Retry-After), loading or failed model"},
    }

    @app.get("/healthz")
    def healthz() -> dict:
        return {"status": "ok", "version": __version__, "uptime_s": time.monotonic() - started}

    @app.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness}})
    def readyz() -> JSONResponse:
        readiness = Readiness(
            ready=all(slot.status == "ready" for slot in slots),
            models={slot.name: slot.describe() for slot in slots},
            queues={
                "classify": QueueStatus(
                    max_batch=classifying.max_batch,
                    max_waiting=classifying.max_pending,
                    waiting=classifying.waiting,
                    running=classifying.running,
                ),
                "compress": QueueStatus(
                    max_batch=1,
                    max_waiting=settings.max_queue,
                    waiting=pool.waiting,
                    running=pool.running,
                ),
            },
        )
        return JSONResponse(readiness.model_dump(), status_code=200 if readiness.ready else 503)

    async def infer(endpoint: Endpoint, tag: str, fn: Callable[[], T]) -> T:
        """Runs `fn` on the pool, timing the model's own work (queue wait excluded)."""

        def timed() -> T:
            started_at = time.perf_counter()
            try:
                return fn()
            finally:
                elapsed = time.perf_counter() - started_at
                metrics.inference_seconds.labels(endpoint, tag).observe(elapsed)

        try:
            return await pool.run(timed)
        except Busy as error:
            metrics.busy_rejections.labels(endpoint, error.reason).inc()
            raise

    @app.post("/classify", responses=responses)
    async def classify(request: ClassifyRequest, http: Request) -> ClassifyResponse:
        model = classifier.get()
        tag = classifier_tag  # in the span, the metric and the log
        started_at = time.perf_counter()
        input_tokens = estimate_tokens(request.prompt)
        attributes = {
            "tokenflow.model": tag,
            "tokenflow.backend": model.backend,
            "tokenflow.input_tokens": input_tokens,
        }
        call = ClassifyCall(request.prompt, request.possible_categories, request.multi_label)
        with tracer.start_as_current_span("classify", attributes=attributes):
            try:
                labels = await unless_client_leaves(http, classifying.submit(call))
            except Busy as error:
                metrics.busy_rejections.labels("classify", error.reason).inc()
                raise
        metrics.input_tokens.labels("classify").inc(input_tokens)
        top, confidence = labels[0]
        elapsed_ms = round((time.perf_counter() - started_at) * 1000, 2)
        # The category and its score are safe to log; the prompt never is.
        log.info(
            "classification done",
            extra={
                "model": tag,
                "input_tokens": input_tokens,
                "top_category": top,
                "confidence": round(confidence, 4),
                "elapsed_ms": elapsed_ms,
            },
        )
        return ClassifyResponse(
            labels=[Label(label=label, score=score) for label, score in labels],
            top_category=top,
            confidence=confidence,
            backend=model.backend,
            model=model.model,
            elapsed_ms=elapsed_ms,
        )

    @app.post("/compress", responses=responses)
    async def compress(request: CompressRequest) -> CompressResponse:
        model = compressor.get()
        tag = model_label(model.model)
        started_at = time.perf_counter()
        attributes = {
            "tokenflow.model": tag,
            "tokenflow.backend": model.method,
        }
        with tracer.start_as_current_span("compress", attributes=attributes) as span:
            result = await infer("compress", tag, lambda: model.compress(request))
            span.set_attributes(
                {
                    "tokenflow.input_tokens": result.origin_tokens,
                    "tokenflow.output_tokens": result.compressed_tokens,
                }
            )
        metrics.input_tokens.labels("compress").inc(result.origin_tokens)
        ratio = result.compressed_tokens / result.origin_tokens if result.origin_tokens else 1.0
        elapsed_ms = round((time.perf_counter() - started_at) * 1000, 2)
        log.info(
            "compression done",
            extra={
                "model": tag,
                "origin_tokens": result.origin_tokens,
                "compressed_tokens": result.compressed_tokens,
                "ratio": round(ratio, 4),
                "elapsed_ms": elapsed_ms,
            },
        )
        return CompressResponse(
            compressed_text=result.compressed_text,
            origin_tokens=result.origin_tokens,
            compressed_tokens=result.compressed_tokens,
            ratio=round(ratio, 4),
            saving_percent=round((1 - ratio) * 100, 2),
            method=model.method,
            model=model.model,
            elapsed_ms=elapsed_ms,
        )

    return app
