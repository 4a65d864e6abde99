import httpx
import pytest

DEFAULTS = {"reasoning", "code", "function-calling", "text-to-text", "creative", "general"}


def classify(service, **body) -> httpx.Response:
    return httpx.post(f"{service.url}/classify", json=body, timeout=30)


def test_scores_every_default_category_best_first_summing_to_one(tiny_service):
    response = classify(tiny_service, prompt="Write a Python function that sorts a list.")

    assert response.status_code == 200
    body = response.json()
    assert {label["label"] for label in body["labels"]} == DEFAULTS
    scores = [label["score"] for label in body["labels"]]
    assert scores == sorted(scores, reverse=True)
    assert sum(scores) == pytest.approx(1.0, abs=1e-4)
    assert body["top_category"] == body["labels"][0]["label"]
    assert body["confidence"] == body["labels"][0]["score"]
    assert body["backend"] == "nli"
    assert body["model"].endswith("tiny-bart-mnli")
    assert body["elapsed_ms"] > 0
    assert body["embedding"] is None


def test_the_nli_backend_has_no_embedding_to_return(tiny_service):
    response = classify(tiny_service, prompt="Summarize this text.", return_embedding=True)

    assert response.status_code == 200
    assert response.json()["embedding"] is None


def test_uses_the_callers_categories_and_scores_each_alone_for_multi_label(tiny_service):
    response = classify(
        tiny_service,
        prompt="Refund my order",
        possible_categories=["billing", "shipping"],
        multi_label=True,
    )

    body = response.json()
    assert {label["label"] for label in body["labels"]} == {"billing", "shipping"}
    assert all(0 <= label["score"] <= 1 for label in body["labels"])


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"prompt": ""}, "prompt: String should have at least 1 character"),
        ({"prompt": "   "}, "prompt: Value error, must contain text"),
        ({"prompt": "x" * 20_001}, "prompt: String should have at most 20000 characters"),
        (
            {"prompt": "x", "possible_categories": []},
            "possible_categories: List should have at least 1",
        ),
        ({"prompt": "x", "possible_categories": [f"c{i}" for i in range(33)]}, "at most 32 items"),
        ({"prompt": "x", "possible_categories": ["a", "A"]}, "must not repeat a category"),
        ({"prompt": "x", "possible_categories": ["y" * 65]}, "at most 64 characters"),
        ({"prompt": "x", "possible_categories": ["   "]}, "at least 1 character"),
        ({"prompt": "x", "temperature": 1}, "temperature: Extra inputs are not permitted"),
        ({"prompt": "x", "return_embedding": "maybe"}, "return_embedding: Input should be"),
        ({}, "prompt: Field required"),
    ],
)
def test_rejects_invalid_input_with_422_and_a_readable_message(tiny_service, body, message):
    response = httpx.post(f"{tiny_service.url}/classify", json=body)

    assert response.status_code == 422
    assert message in response.json()["detail"]


def test_rejects_malformed_json_with_422(tiny_service):
    response = httpx.post(
        f"{tiny_service.url}/classify",
        content=b"{not json",
        headers={"content-type": "application/json"},
    )

    assert response.status_code == 422
    assert "JSON decode error" in response.json()["detail"]


def test_refuses_a_chunked_body_over_the_limit_with_413(tiny_service):
    def chunks():
        yield b'{"prompt": "'
        for _ in range(6):
            yield b"x" * (1024 * 1024)
        yield b'"}'

    response = httpx.post(
        f"{tiny_service.url}/classify",
        content=chunks(),
        headers={"content-type": "application/json"},
    )

    assert response.status_code == 413
    assert "larger than" in response.json()["detail"]


def test_refuses_a_body_over_the_limit_with_413(tiny_service):
    response = httpx.post(
        f"{tiny_service.url}/classify",
        content=b'{"prompt": "' + b"x" * (5 * 1024 * 1024) + b'"}',
        headers={"content-type": "application/json"},
    )

    assert response.status_code == 413
    assert "larger than" in response.json()["detail"]
