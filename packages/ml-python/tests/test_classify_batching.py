"""Concurrent /classify requests share encoder passes, and each still gets its own answer
(and, when it asks, its own prompt's embedding)."""

import concurrent.futures
import contextlib
import time

import httpx
import numpy as np
import pytest
from test_metrics import scrape, value

from tokenflow_ml.classification import ClassifyCall, EmbeddingClassifier

PROMPTS = [
    ("Write a haiku about the sea at night.", None),
    ("Write a Rust function that parses an ISO 8601 date.", None),
    ("What is the capital of Australia?", None),
    ("Translate 'where is the station' into French.", ["text-to-text", "code"]),
    ("If a train leaves at 3 pm going 80 km/h, when has it gone 200 km?", None),
    ("Book a table for two at 7 pm using the reservations API.", ["function-calling", "general"]),
]


@pytest.fixture(scope="module")
def classifier(minilm_path) -> EmbeddingClassifier:
    return EmbeddingClassifier(minilm_path)


def test_a_batch_scores_each_prompt_as_it_would_be_scored_alone(classifier):
    calls = [ClassifyCall(prompt, categories) for prompt, categories in PROMPTS]

    batched = classifier.classify_batch(calls)

    for call, result in zip(calls, batched, strict=True):
        scores = result.scores
        alone = classifier.classify(call.prompt, call.categories, multi_label=False)
        assert scores[0][0] == alone[0][0]
        # Int8 activations share one scale per pass, so scores move a little with the batch
        # (on the routing test split: median 0.001, largest 0.067; the top category 299 of 300).
        assert dict(scores) == pytest.approx(dict(alone), abs=0.1)


@contextlib.contextmanager
def serving(embedding_service, **settings):
    service = embedding_service(**settings)
    assert service.wait_ready()["ready"]
    yield service
    service.stop()


@pytest.fixture(scope="module")
def service(embedding_service):
    with serving(embedding_service, classify_max_batch="8") as running:
        yield running


def post(service, prompt, categories, **options):
    body = {"prompt": prompt, "possible_categories": categories, **options}
    return httpx.post(f"{service.url}/classify", json=body, timeout=30)


def embedding(service, prompt):
    response = post(service, prompt, None, return_embedding=True)
    assert response.status_code == 200, response.text
    return np.array(response.json()["embedding"])


def test_concurrent_requests_run_in_batches_and_each_gets_its_own_answer(service):
    alone = {prompt: post(service, prompt, cats).json()["top_category"] for prompt, cats in PROMPTS}
    before = scrape(service)
    sent = PROMPTS * 8

    with concurrent.futures.ThreadPoolExecutor(16) as threads:
        responses = list(threads.map(lambda pc: post(service, *pc), sent))

    after = scrape(service)
    assert [r.status_code for r in responses] == [200] * len(sent)
    assert [r.json()["top_category"] for r in responses] == [alone[p] for p, _ in sent]
    count, total = "tokenflow_ml_batch_size_count", "tokenflow_ml_batch_size_sum"
    batches = value(after, count, endpoint="classify") - value(before, count, endpoint="classify")
    served = value(after, total, endpoint="classify") - value(before, total, endpoint="classify")
    assert served == len(sent)
    assert batches < len(sent)  # some requests shared a pass
    waits = "tokenflow_ml_queue_wait_seconds_count"
    assert value(after, waits, endpoint="classify") - value(
        before, waits, endpoint="classify"
    ) == len(sent)


def test_readiness_reports_each_queue(service):
    queues = httpx.get(f"{service.url}/readyz").json()["queues"]

    assert queues["classify"] == {"max_batch": 8, "max_waiting": 128, "waiting": 0, "running": 0}
    assert queues["compress"] == {"max_batch": 1, "max_waiting": 8, "waiting": 0, "running": 0}


def test_returns_the_prompts_unit_embedding_only_when_asked(service):
    vector = embedding(service, "Write a haiku about the sea at night.")

    assert vector.shape == (384,)
    assert np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-4)
    assert post(service, "Write a haiku about the sea at night.", None).json()["embedding"] is None
    # One prompt alone in its pass gives the same vector every time.
    assert np.array_equal(embedding(service, "Write a haiku about the sea at night."), vector)


def test_a_prompt_longer_than_the_encoder_reads_whole_gets_no_embedding(service):
    # Clipped to its start and end, its vector would not tell it from one that differs in between.
    long = "Here are my meeting notes. " + "We discussed the roadmap and the budget. " * 40
    response = post(service, long + "What did we decide?", None, return_embedding=True)

    assert response.status_code == 200
    assert response.json()["embedding"] is None


def test_paraphrases_embed_closer_together_than_unrelated_prompts(service):
    refund = embedding(service, "How do I get a refund for my order?")
    money_back = embedding(service, "I want my money back for what I bought.")
    mountain = embedding(service, "What is the tallest mountain in Europe?")

    assert refund @ money_back > refund @ mountain + 0.2


def test_a_batch_mixing_requests_with_and_without_the_embedding_answers_each(service):
    alone = {prompt: embedding(service, prompt) for prompt, _ in PROMPTS}
    sent = [(prompt, cats, i % 2 == 0) for i, (prompt, cats) in enumerate(PROMPTS * 4)]

    with concurrent.futures.ThreadPoolExecutor(16) as threads:
        responses = list(
            threads.map(lambda pce: post(service, *pce[:2], return_embedding=pce[2]), sent)
        )

    assert [r.status_code for r in responses] == [200] * len(sent)
    for (prompt, _, asked), response in zip(sent, responses, strict=True):
        vector = response.json()["embedding"]
        if not asked:
            assert vector is None
            continue
        # Its own prompt's vector, not a neighbour's (int8 passes vary a little by batch).
        assert np.array(vector) @ alone[prompt] > 0.99


@pytest.fixture(scope="module")
def one_at_a_time(embedding_service):
    with serving(embedding_service, classify_max_batch="1") as running:
        yield running


def test_a_request_whose_client_left_costs_no_encoder_pass(one_at_a_time):
    def impatient(n):
        body = {"prompt": f"Write a Go function number {n} that parses a date."}
        with contextlib.suppress(httpx.TimeoutException):
            httpx.post(f"{one_at_a_time.url}/classify", json=body, timeout=0.05)

    before = scrape(one_at_a_time)
    # About 8 ms each one at a time: 40 would take over 300 ms, every client gives up at 50.
    with concurrent.futures.ThreadPoolExecutor(40) as threads:
        list(threads.map(impatient, range(40)))
    time.sleep(1)  # let whatever was still running finish

    after = scrape(one_at_a_time)
    count = "tokenflow_ml_batch_size_sum"
    ran = value(after, count, endpoint="classify") - value(before, count, endpoint="classify")
    assert ran < 30
    assert value(after, "tokenflow_ml_inference_queue_depth") == 0
