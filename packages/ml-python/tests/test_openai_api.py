"""The local SmolLM2-135M-Instruct behind an OpenAI-compatible API: a real model, no fakes."""

import json
import threading

import httpx
import pytest
from tiny_models import tiny_backends

MODEL = "smollm2-135m-instruct"


@pytest.fixture(scope="module")
def service(start_service, tiny_models):
    service = start_service(
        **tiny_backends(tiny_models),
        generator_enabled="true",
        generation_concurrency="1",
        generation_wait_s="0.5",
    )
    assert service.wait_ready()["ready"]
    return service


def chat(service, **body) -> httpx.Response:
    body = {"model": MODEL, "messages": [{"role": "user", "content": "Say hello."}], **body}
    return httpx.post(f"{service.url}/v1/chat/completions", json=body, timeout=120)


def sse_chunks(response: httpx.Response) -> list[dict | str]:
    chunks = []
    for line in response.iter_lines():
        if line.startswith("data: "):
            data = line[len("data: ") :]
            chunks.append(data if data == "[DONE]" else json.loads(data))
    return chunks


def test_lists_the_local_model(service):
    body = httpx.get(f"{service.url}/v1/models").json()

    assert body["object"] == "list"
    assert [m["id"] for m in body["data"]] == [MODEL]


def test_answers_a_question_with_the_chat_template_applied(service):
    response = chat(
        service,
        messages=[{"role": "user", "content": "What is the capital of France?"}],
        temperature=0,
        max_tokens=30,
    )

    assert response.status_code == 200
    body = response.json()
    assert body["object"] == "chat.completion"
    assert "Paris" in body["choices"][0]["message"]["content"]
    assert body["choices"][0]["finish_reason"] == "stop"
    usage = body["usage"]
    assert usage["prompt_tokens"] > 10  # the template's system prompt is in there
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_honours_max_tokens_and_says_the_answer_was_cut(service):
    body = chat(
        service,
        messages=[{"role": "user", "content": "Write a long story about a dragon."}],
        max_tokens=5,
        temperature=0,
    ).json()

    assert body["usage"]["completion_tokens"] == 5
    assert body["choices"][0]["finish_reason"] == "length"


def test_stops_at_a_stop_string_and_leaves_it_out(service):
    body = chat(
        service,
        messages=[{"role": "user", "content": "Count from 1 to 10, separated by commas."}],
        stop=["5"],
        temperature=0,
        max_tokens=60,
    ).json()

    text = body["choices"][0]["message"]["content"]
    assert "4" in text
    assert "5" not in text
    assert body["choices"][0]["finish_reason"] == "stop"


def test_streams_chunks_in_openai_format_with_usage_and_done(service):
    with httpx.stream(
        "POST",
        f"{service.url}/v1/chat/completions",
        json={
            "model": MODEL,
            "messages": [{"role": "user", "content": "Name three colours."}],
            "stream": True,
            "stream_options": {"include_usage": True},
            "max_tokens": 30,
            "temperature": 0,
        },
        timeout=120,
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        chunks = sse_chunks(response)

    assert chunks[-1] == "[DONE]"
    first, *middle, finish, usage, _ = chunks
    assert first["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert len(middle) > 3  # token by token, not one blob
    assert all(c["object"] == "chat.completion.chunk" for c in middle)
    assert finish["choices"][0]["finish_reason"] in {"stop", "length"}
    assert usage["choices"] == []
    assert usage["usage"]["completion_tokens"] > 0


def test_refuses_an_unknown_model_in_openais_error_shape(service):
    response = chat(service, model="gpt-4o")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "model_not_found"


@pytest.mark.parametrize(
    "body",
    [{"max_tokens": 0}, {"messages": []}, {"temperature": 5}, {"stop": ""}, {"stop": "x" * 65}],
)
def test_rejects_invalid_input_with_400_in_openais_error_shape(service, body):
    response = chat(service, **body)

    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"tools": [{"type": "function", "function": {"name": "f"}}]}, "cannot call tools"),
        ({"response_format": {"type": "json_object"}}, "response_format must be text"),
        ({"messages": [{"role": "tool", "content": "x", "tool_call_id": "c"}]}, "messages"),
    ],
)
def test_refuses_tools_and_structured_outputs_it_cannot_honour(service, body, says):
    response = chat(service, **body)

    assert response.status_code == 400
    assert says in response.json()["error"]["message"]


def test_refuses_a_prompt_that_does_not_fit_the_context_and_frees_the_slot(service):
    long = {"role": "user", "content": "word " * 9000}

    refused = chat(service, messages=[long], max_tokens=10)
    after = chat(service, max_tokens=3)

    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "context_length_exceeded"
    assert after.status_code == 200


def metric(service, name: str) -> float:
    for line in httpx.get(f"{service.url}/metrics").text.splitlines():
        if line.startswith(name):
            return float(line.split()[-1])
    return 0.0


def test_a_generation_records_its_latency_prompt_tokens_and_decoding_speed(service):
    latency = 'tokenflow_ml_inference_duration_seconds_count{endpoint="chat"'
    prompt_tokens = 'tokenflow_ml_input_tokens_total{endpoint="chat"}'
    speed = "tokenflow_ml_generation_tokens_per_second_count"
    before = {name: metric(service, name) for name in (latency, prompt_tokens, speed)}

    body = chat(service, max_tokens=8, temperature=0).json()

    assert metric(service, latency) - before[latency] == 1
    assert metric(service, prompt_tokens) - before[prompt_tokens] == body["usage"]["prompt_tokens"]
    assert metric(service, speed) - before[speed] == 1
    assert metric(service, "tokenflow_ml_generation_tokens_per_second_sum") > 0


def test_a_client_that_disconnects_stops_the_generation(service):
    cancelled = 'tokenflow_ml_generations_total{outcome="cancelled"}'
    before = metric(service, cancelled)
    body = {
        "model": MODEL,
        "messages": [{"role": "user", "content": "Count from 1 to 1000, separated by commas."}],
        "stream": True,
        "max_tokens": 1000,
        "temperature": 0,
    }
    with httpx.stream("POST", f"{service.url}/v1/chat/completions", json=body, timeout=60) as r:
        for received, _ in enumerate(r.iter_lines()):
            if received > 6:
                break

    tokens_before = metric(service, "tokenflow_ml_generated_tokens_total")
    deadline = threading.Event()
    for _ in range(100):
        if metric(service, cancelled) > before:
            break
        deadline.wait(0.1)
    assert metric(service, cancelled) == before + 1
    # It stopped far short of the 1000 tokens it was allowed.
    assert metric(service, "tokenflow_ml_generated_tokens_total") - tokens_before < 200


def test_a_request_beyond_the_concurrency_limit_waits_then_gets_503(service):
    busy = 'tokenflow_ml_busy_rejections_total{endpoint="chat",reason="queue_timeout"}'
    busy_before = metric(service, busy)
    long = {
        "model": MODEL,
        "messages": [{"role": "user", "content": "Count from 1 to 500, separated by commas."}],
        "stream": True,
        "max_tokens": 400,
        "temperature": 0,
    }
    with httpx.stream("POST", f"{service.url}/v1/chat/completions", json=long, timeout=60) as r:
        # Keep the line iterator alive: dropping it would close the stream, and the slot with it.
        lines = r.iter_lines()
        next(lines)  # the first generation now holds the only slot
        response = chat(service, max_tokens=5)

    assert response.status_code == 503
    assert response.headers["retry-after"] == "2"
    assert response.json()["error"]["code"] == "busy"
    assert metric(service, busy) - busy_before == 1


def test_a_failure_after_the_stream_began_is_one_frame_in_openais_error_shape():
    from tokenflow_ml.openai_api import error_chunk, sse

    frame = sse(error_chunk("the model thread died"))

    assert frame.startswith(b"data: ") and frame.endswith(b"\n\n")
    assert json.loads(frame[len(b"data: ") :]) == {
        "error": {
            "message": "the model thread died",
            "type": "server_error",
            "code": "generation_failed",
        }
    }
