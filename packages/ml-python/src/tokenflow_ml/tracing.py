"""Optional OpenTelemetry traces: on only when OTEL_EXPORTER_OTLP_ENDPOINT is set.

The gateway sends a W3C `traceparent` with each call, so the span of an ML request
becomes a child of the gateway's span, and the model's own span ("classify",
"compress", "generate") a child of that. The SDK is imported only when tracing is on;
otherwise the routes get the API's no-op tracer, which records nothing.

The provider is handed to the FastAPI instrumentation and our tracer explicitly rather
than installed process-wide: nothing else in this process makes spans, and a test can
build an app with its own exporter without leaking it into the next test.
"""

import logging
import os
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from fastapi import FastAPI
from opentelemetry import trace

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

log = logging.getLogger("tokenflow_ml.tracing")

SERVICE_NAME = "tokenflow-ml"
TRACER_NAME = "tokenflow_ml"
# Probes and scrapes every few seconds would bury the requests worth looking at.
UNTRACED_URLS = "/healthz,/readyz,/metrics"


def tracing_enabled() -> bool:
    return bool(os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"))


def setup_tracing(app: FastAPI, exporter: "SpanExporter | None" = None) -> trace.Tracer:
    """Traces `app` if OTEL_EXPORTER_OTLP_ENDPOINT is set (or an exporter is given).

    Returns the tracer for model spans; app.state.tracer_provider is the SDK provider,
    or None when tracing is off.
    """
    app.state.tracer_provider = None
    if exporter is None and not tracing_enabled():
        return trace.NoOpTracer()

    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
    from opentelemetry.sdk.resources import SERVICE_NAME as SERVICE_NAME_KEY
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    # Resource.create reads OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES; ours is the default.
    named = os.environ.get("OTEL_SERVICE_NAME")
    provider = TracerProvider(
        resource=Resource.create({} if named else {SERVICE_NAME_KEY: SERVICE_NAME})
    )
    if exporter is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        # Reads OTEL_EXPORTER_OTLP_ENDPOINT (and _HEADERS, _TIMEOUT) itself; batches off-thread.
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        endpoint = urlsplit(os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"])
        log.info(
            "tracing on: spans go to the OTLP/HTTP endpoint",
            # The host only: a URL may carry credentials.
            extra={"otlp_host": endpoint.hostname, "service_name": named or SERVICE_NAME},
        )
    else:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=provider,
        excluded_urls=UNTRACED_URLS,
        # One span per request, not one more per body chunk sent or received.
        exclude_spans=["receive", "send"],
    )
    app.state.tracer_provider = provider
    return provider.get_tracer(TRACER_NAME)


def shutdown_tracing(app: FastAPI) -> None:
    """Sends the spans still batched before the process exits."""
    provider: TracerProvider | None = app.state.tracer_provider
    if provider is not None:
        provider.shutdown()
