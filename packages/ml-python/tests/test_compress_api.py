import concurrent.futures

import httpx
import pytest
from tiny_models import sample_text, tiny_backends


def compress(service, **body) -> httpx.Response:
    return httpx.post(f"{service.url}/compress", json=body, timeout=60)


def test_compresses_with_llmlingua2_and_reports_gpt_token_counts(tiny_service):
    text = sample_text(400)

    response = compress(tiny_service, text=text, ratio=0.5)

    assert response.status_code == 200
    body = response.json()
    assert body["method"] == "llmlingua2"
    assert body["model"].endswith("bert-base-multilingual-cased")
    assert 0 < body["compressed_tokens"] < body["origin_tokens"]
    assert body["ratio"] == pytest.approx(
        body["compressed_tokens"] / body["origin_tokens"], abs=1e-4
    )
    assert body["saving_percent"] == pytest.approx((1 - body["ratio"]) * 100, abs=0.01)
    assert len(body["compressed_text"]) < len(text)


def test_a_ratio_of_one_keeps_everything(tiny_service):
    body = compress(tiny_service, text=sample_text(100), ratio=1).json()

    assert body["compressed_tokens"] == body["origin_tokens"]


def test_keeps_a_newline_as_a_forced_token(tiny_service):
    text = "\n".join(sample_text(40, seed) for seed in range(5))

    body = compress(tiny_service, text=text, ratio=0.3, force_tokens=["\n"]).json()

    assert body["compressed_text"].count("\n") == text.count("\n")


@pytest.mark.parametrize("text", ["中文文本", "🎉🎉🎉", "ü"])
def test_sends_text_the_model_has_no_words_for_back_unchanged(tiny_service, text):
    response = compress(tiny_service, text=text, ratio=0.5)

    assert response.status_code == 200
    body = response.json()
    assert body["compressed_text"] == text
    assert body["compressed_tokens"] == body["origin_tokens"] > 0


def test_question_aware_compression_works_with_llmlingua2(tiny_service):
    response = compress(tiny_service, text="Some context. " * 40, question="What?")

    assert response.status_code == 200
    assert 0 < response.json()["compressed_tokens"] < response.json()["origin_tokens"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"text": "x", "ratio": 0}, "ratio: Input should be greater than 0"),
        ({"text": "x", "ratio": 1.5}, "ratio: Input should be less than or equal to 1"),
        ({"text": "", "ratio": 0.5}, "text: String should have at least 1 character"),
        ({"text": "x" * 400_001}, "text: String should have at most 400000 characters"),
        (
            {"text": "x", "target_tokens": 0},
            "target_tokens: Input should be greater than or equal to 1",
        ),
        (
            {"text": "x", "force_tokens": ["a"] * 33},
            "force_tokens: List should have at most 32 items",
        ),
        ({"text": "x", "ratio": "half"}, "ratio: Input should be a valid number"),
        (
            {"text": "x", "force_tokens": ["  "]},
            "force_tokens.0: Value error, must not be only spaces",
        ),
    ],
)
def test_rejects_invalid_input_with_422_and_a_readable_message(tiny_service, body, message):
    response = compress(tiny_service, **body)

    assert response.status_code == 422
    assert message in response.json()["detail"]


def test_answers_503_with_retry_after_when_every_slot_is_taken(start_service, tiny_models):
    service = start_service(
        **tiny_backends(tiny_models),
        workers="1",
        max_queue="0",
    )
    service.wait_ready()
    text = sample_text(2000)

    with concurrent.futures.ThreadPoolExecutor(12) as threads:
        responses = list(threads.map(lambda _: compress(service, text=text, ratio=0.5), range(12)))

    statuses = [r.status_code for r in responses]
    assert 200 in statuses
    assert 503 in statuses
    busy = next(r for r in responses if r.status_code == 503)
    assert busy.headers["retry-after"] == "1"
    assert busy.json()["detail"].startswith("the ML service is busy")
