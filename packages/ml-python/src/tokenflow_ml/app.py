"""HTTP routes of the ML service. Model code lives in classification.py and compression/."""

import logging
import time
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from . import __version__
from .access_log import RequestIdMiddleware
from .body_limit import BodyLimitMiddleware
from .classification import ClassifyCall
from .client_gone import ClientGone, unless_client_leaves
from .compression import UnsupportedOption
from .inference_pool import Busy
from .metrics import Endpoint, ServiceMetrics, estimate_tokens, model_label
from .model_access import Models
from .model_slots import NotReady
from .models_in_process import InProcessModels
from .openai_api import openai_router
from .openai_errors import openai_error
from .schemas import (
    ClassifyRequest,
    ClassifyResponse,
    CompressRequest,
    CompressResponse,
    ErrorBody,
    Label,
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
    settings: Settings | None = None,
    *,
    models: Models | None = None,
    span_exporter: "SpanExporter | None" = None,
) -> FastAPI:
    """The service over `models` (this process's by default).

    `span_exporter` turns tracing on with it (tests), else the OTEL_* env does.
    """
    settings = settings or Settings()
    served: Models = models or InProcessModels(settings)
    metrics_registry = CollectorRegistry()
    metrics = ServiceMetrics(metrics_registry, served.queues, served.slots)
    served.observe(metrics)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        served.start()
        yield
        served.shutdown()
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

    if served.generator is not None:
        app.include_router(
            openai_router(
                served.generator,
                concurrency=served.generation_slots,
                wait_s=settings.generation_wait_s,
                default_max_tokens=settings.generation_default_max_tokens,
                metrics=metrics,
                tracer=tracer,
            )
        )

    responses: dict[int | str, dict[str, Any]] = {
        413: {"model": ErrorBody, "description": "Request body too large"},
        422: {"model": ErrorBody, "description": "Invalid input or unsupported option"},
        503: {"model": ErrorBody, "description": "Busy (Retry-After), loading or failed model"},
    }

    @app.get("/healthz")
    def healthz() -> dict[str, Any]:
        return {"status": "ok", "version": __version__, "uptime_s": time.monotonic() - started}

    @app.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness}})
    async def readyz() -> JSONResponse:
        report = await served.report()
        ready = all(model.status == "ready" for model in report.models.values())
        readiness = Readiness(
            ready=ready, models=report.models, queues=report.queues, replicas=report.replicas
        )
        # `replicas` only where there are replicas (Ray Serve).
        body = readiness.model_dump(exclude={"replicas"} if report.replicas is None else None)
        return JSONResponse(body, status_code=200 if ready else 503)

    async def counting_refusals(endpoint: Endpoint, work: Awaitable[T]) -> T:
        try:
            return await work
        except Busy as error:
            metrics.busy_rejections.labels(endpoint, error.reason).inc()
            raise

    @app.post("/classify", responses=responses)
    async def classify(request: ClassifyRequest, http: Request) -> ClassifyResponse:
        model = served.identity("classifier")
        tag = model_label(model.model)  # in the span, the metric and the log
        started_at = time.perf_counter()
        input_tokens = estimate_tokens(request.prompt)
        attributes: dict[str, str | int] = {
            "tokenflow.model": tag,
            "tokenflow.backend": model.backend,
            "tokenflow.input_tokens": input_tokens,
        }
        call = ClassifyCall(
            request.prompt,
            request.possible_categories,
            request.multi_label,
            embedding=request.return_embedding,
        )
        with tracer.start_as_current_span("classify", attributes=attributes):
            result = await counting_refusals(
                "classify", unless_client_leaves(http, served.classify(call))
            )
        labels = result.scores
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
            # Six decimals keep 384 dimensions near 4 KB of JSON; a cosine moves by under 2e-5.
            embedding=None
            if result.embedding is None
            else [round(float(x), 6) for x in result.embedding],
        )

    @app.post("/compress", responses=responses)
    async def compress(request: CompressRequest) -> CompressResponse:
        model = served.identity("compressor")
        tag = model_label(model.model)
        started_at = time.perf_counter()
        attributes = {"tokenflow.model": tag, "tokenflow.backend": model.backend}
        with tracer.start_as_current_span("compress", attributes=attributes) as span:
            result = await counting_refusals("compress", served.compress(request))
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
            method=model.backend,
            model=model.model,
            elapsed_ms=elapsed_ms,
        )

    return app
