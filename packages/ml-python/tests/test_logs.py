"""Request ids and JSON log lines: unit checks of the formatter, then the real service's output."""

import json
import logging
import sys
import time

import httpx
import pytest
from fastapi.testclient import TestClient
from tiny_models import tiny_backends

from tokenflow_ml.access_log import incoming_id
from tokenflow_ml.app import create_app
from tokenflow_ml.logs import ContextFilter, JsonFormatter, TextFormatter, request_id
from tokenflow_ml.settings import Settings

TOKEN = "s3cret-token-for-log-tests-0123456789"


def record(message: str = "compression done", **extra) -> logging.LogRecord:
    entry = logging.LogRecord("tokenflow_ml", logging.INFO, __file__, 1, message, None, None)
    entry.__dict__.update(extra)
    return entry


def test_the_json_formatter_writes_one_parsable_object_with_the_fields():
    formatter = JsonFormatter()
    entry = record(origin_tokens=120, compressed_tokens=60)
    entry.created = 1_700_000_000.25
    token = request_id.set("req-42")
    try:
        ContextFilter().filter(entry)
    finally:
        request_id.reset(token)

    line = formatter.format(entry)

    assert "\n" not in line
    body = json.loads(line)
    assert body == {
        "time": "2023-11-14T22:13:20.250Z",
        "level": "info",
        "logger": "tokenflow_ml",
        "message": "compression done",
        "request_id": "req-42",
        "origin_tokens": 120,
        "compressed_tokens": 60,
    }


def test_the_json_formatter_keeps_a_traceback_inside_the_one_line():
    try:
        raise ValueError("model exploded")
    except ValueError:
        entry = logging.LogRecord(
            "tokenflow_ml", logging.ERROR, __file__, 1, "failed", None, sys.exc_info()
        )

    line = JsonFormatter().format(entry)

    assert len(line.splitlines()) == 1
    assert "ValueError: model exploded" in json.loads(line)["exception"]


def test_fields_without_a_request_or_trace_are_left_out():
    entry = record()
    ContextFilter().filter(entry)

    body = json.loads(JsonFormatter().format(entry))

    assert not {"request_id", "trace_id", "span_id"} & body.keys()


def test_the_text_formatter_puts_the_request_id_and_fields_on_the_message_line():
    entry = record(origin_tokens=120)
    entry.request_id = "req-42"

    line = TextFormatter().format(entry)

    expected = "INFO    tokenflow_ml: compression done request_id=req-42 origin_tokens=120"
    assert line.endswith(expected)


@pytest.mark.parametrize(
    ("header", "kept"),
    [
        ("gw-7f3a.1:retry_2", True),
        ("gw/7f3a", False),
        ("id\r\nset-cookie:x", False),
        ("a" * 128, True),
        ("a" * 129, False),
        ("two words", False),
        ("", False),
        ("ünïcode", False),
    ],
)
def test_a_request_id_is_kept_only_if_it_is_short_and_plain(header, kept):
    scope = {"headers": [(b"x-request-id", header.encode())]}

    result = incoming_id(scope)

    if kept:
        assert result == header
    else:
        assert result != header
        assert len(result) == 32
        int(result, 16)  # a uuid4 in hex


def test_every_response_carries_the_request_id_even_a_refused_one():
    client = TestClient(create_app(Settings(service_token=TOKEN)))

    kept = client.get("/metrics", headers={"x-request-id": "gw-1", "authorization": "Bearer x"})
    replaced = client.get("/healthz", headers={"x-request-id": "bad id"})
    fresh = client.get("/healthz")

    assert kept.status_code == 401
    assert kept.headers["x-request-id"] == "gw-1"
    assert len(replaced.headers["x-request-id"]) == 32
    assert replaced.headers["x-request-id"] != fresh.headers["x-request-id"]


@pytest.fixture(scope="module")
def logged_service(start_service, tiny_models, tmp_path_factory):
    log_path = tmp_path_factory.mktemp("logs") / "ml.log"
    service = start_service(
        log_path=log_path,
        log_level="info",
        service_token=TOKEN,
        **tiny_backends(tiny_models),
    )
    assert service.wait_ready()["ready"]
    return service, log_path


def read_lines(
    log_path, until: str, request_id: str | None = None, timeout: float = 10
) -> list[dict]:
    """Every line the service wrote, parsed; waits until one has the message `until`
    (for `request_id`, when given). The access line is written after the response has
    gone out, so a test that reads it must wait for it rather than for the inference line."""

    def wanted(line: dict) -> bool:
        return line["message"] == until and request_id in (None, line.get("request_id"))

    deadline = time.monotonic() + timeout
    while True:
        lines = [json.loads(line) for line in log_path.read_text().splitlines() if line]
        if any(wanted(line) for line in lines) or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


def test_the_gateways_request_id_tags_the_access_and_inference_lines(logged_service):
    service, log_path = logged_service
    prompt = "Summarise the quarterly revenue report for the sales team."
    headers = {"x-request-id": "gw-req-7", "authorization": f"Bearer {TOKEN}"}

    response = httpx.post(
        f"{service.url}/compress", json={"text": prompt, "ratio": 0.5}, headers=headers
    )

    assert response.status_code == 200
    assert response.headers["x-request-id"] == "gw-req-7"
    mine = [
        line
        for line in read_lines(log_path, "request finished", "gw-req-7")
        if line.get("request_id")
    ]
    by_message = {line["message"]: line for line in mine if line["request_id"] == "gw-req-7"}
    access = by_message["request finished"]
    assert (access["method"], access["path"], access["status"]) == ("POST", "/compress", 200)
    assert access["duration_ms"] > 0
    assert access["logger"] == "tokenflow_ml.access"
    done = by_message["compression done"]
    assert done["origin_tokens"] == response.json()["origin_tokens"]
    assert done["compressed_tokens"] == response.json()["compressed_tokens"]


def test_everything_the_service_writes_is_json_without_prompts_or_the_token(logged_service):
    service, log_path = logged_service
    secret_prompt = "The launch code for project nightingale is 4711."
    httpx.post(
        f"{service.url}/classify",
        json={"prompt": secret_prompt},
        headers={"authorization": f"Bearer {TOKEN}", "x-request-id": "gw-req-8"},
    )

    lines = read_lines(log_path, "classification done")
    text = log_path.read_text()

    assert {"time", "level", "logger", "message"} <= lines[0].keys()
    # uvicorn's own lines come through our formatter too; its access log is gone.
    assert any(line["logger"] == "uvicorn.error" for line in lines)
    assert not any(line["logger"] == "uvicorn.access" for line in lines)
    assert any(line.get("request_id") == "gw-req-8" for line in lines)
    assert "nightingale" not in text
    assert TOKEN not in text
