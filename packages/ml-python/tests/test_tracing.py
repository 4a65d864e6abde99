"""OpenTelemetry: a gateway's traceparent makes our spans its children; off without an endpoint."""

import logging
import subprocess
import sys
import time

import pytest
from fastapi.testclient import TestClient
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from tiny_models import tiny_backends

from tokenflow_ml.app import create_app
from tokenflow_ml.logs import ContextFilter
from tokenflow_ml.settings import Settings

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
GATEWAY_SPAN_ID = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{GATEWAY_SPAN_ID}-01"


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []
        self.addFilter(ContextFilter())

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(scope="module")
def traced(tiny_models):
    exporter = InMemorySpanExporter()
    settings = Settings(
        **tiny_backends(tiny_models),
        generator_enabled=False,
        torch_threads=1,
    )
    app = create_app(settings, span_exporter=exporter)
    with TestClient(app) as client:
        deadline = time.monotonic() + 120
        while client.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline, "the tiny models did not load"
            time.sleep(0.1)
        yield client, exporter


def test_the_inference_span_is_a_child_of_the_request_span_in_the_gateways_trace(traced):
    client, exporter = traced
    exporter.clear()

    response = client.post(
        "/compress",
        json={"text": "Notes from the budget meeting on Monday.", "ratio": 0.5},
        headers={"traceparent": TRACEPARENT},
    )

    assert response.status_code == 200
    spans = {span.name: span for span in exporter.get_finished_spans()}
    server, model = spans["POST /compress"], spans["compress"]
    assert server.kind == trace.SpanKind.SERVER
    assert format(server.context.trace_id, "032x") == TRACE_ID
    assert format(server.parent.span_id, "016x") == GATEWAY_SPAN_ID
    assert model.context.trace_id == server.context.trace_id
    assert model.parent.span_id == server.context.span_id
    body = response.json()
    assert model.attributes["tokenflow.input_tokens"] == body["origin_tokens"]
    assert model.attributes["tokenflow.output_tokens"] == body["compressed_tokens"]
    assert model.attributes["tokenflow.model"] == "tiny-llmlingua-2-bert-base-multilingual-cased"
    assert server.resource.attributes["service.name"] == "tokenflow-ml"
    # Never the text itself, in any attribute of any span.
    assert not any(
        "budget meeting" in str(v) for s in spans.values() for v in s.attributes.values()
    )


def test_log_lines_of_a_traced_request_carry_its_trace_and_request_ids(traced):
    client, exporter = traced
    handler = Records()
    logging.getLogger().addHandler(handler)
    logger = logging.getLogger("tokenflow_ml")
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        client.post(
            "/classify",
            json={"prompt": "Translate good morning into French."},
            headers={"traceparent": TRACEPARENT, "x-request-id": "gw-trace-1"},
        )
    finally:
        logging.getLogger().removeHandler(handler)
        logger.setLevel(level)

    done = next(r for r in handler.records if r.getMessage() == "classification done")
    assert done.trace_id == TRACE_ID
    assert done.request_id == "gw-trace-1"
    server = next(s for s in exporter.get_finished_spans() if s.name == "POST /classify")
    assert done.span_id == format(server.context.span_id, "016x")


def test_probes_make_no_spans(traced):
    client, exporter = traced
    exporter.clear()

    client.get("/healthz")
    client.get("/metrics")

    assert exporter.get_finished_spans() == ()


def test_without_an_otlp_endpoint_no_tracer_provider_is_installed(monkeypatch):
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)

    app = create_app(Settings(generator_enabled=False))

    assert app.state.tracer_provider is None
    assert not getattr(app, "_is_instrumented_by_opentelemetry", False)
    assert isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)


def test_without_an_otlp_endpoint_the_sdk_is_not_even_imported():
    script = (
        "import os, sys; os.environ.pop('OTEL_EXPORTER_OTLP_ENDPOINT', None);"
        "from tokenflow_ml.app import create_app; from tokenflow_ml.settings import Settings;"
        "create_app(Settings(generator_enabled=False));"
        "print(sorted(m for m in sys.modules if m.startswith('opentelemetry.sdk')))"
    )

    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )

    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("service_name", "expected"), [(None, "tokenflow-ml"), ("ml-eu-west", "ml-eu-west")]
)
def test_an_otlp_endpoint_turns_tracing_on_with_the_service_name(
    monkeypatch, service_name, expected
):
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9")
    if service_name:
        monkeypatch.setenv("OTEL_SERVICE_NAME", service_name)
    else:
        monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)

    app = create_app(Settings(generator_enabled=False))

    provider = app.state.tracer_provider
    try:
        assert provider is not None
        assert provider.resource.attributes["service.name"] == expected
        assert app._is_instrumented_by_opentelemetry
    finally:
        provider.shutdown()
