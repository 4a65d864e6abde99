"""The models in this process: each loaded once in the background, classification
batched on its own thread, compression on the inference pool."""

import time
from typing import Any

from .batching import Batcher, BatchStats
from .classification import Classification, Classifier, ClassifyCall
from .compression import Compression, Compressor, create_compressor
from .inference_pool import InferencePool
from .local_generation import LocalGenerator
from .local_model import LOCAL_MODEL_ID
from .metrics import ServiceMetrics, WorkQueue, model_label
from .model_access import ModelIdentity, ModelName, ModelsReport
from .model_slots import ModelSlot, load_in_background
from .routing.serving import create_classifier
from .schemas import CompressRequest, QueueStatus
from .settings import Settings


def classifier_slot(settings: Settings) -> ModelSlot[Classifier]:
    return ModelSlot(
        name="classifier",
        backend=settings.classifier_backend,
        model=settings.classifier_model_id(),
        loader=lambda: create_classifier(settings),
    )


def compressor_slot(settings: Settings) -> ModelSlot[Compressor]:
    return ModelSlot(
        name="compressor",
        backend=settings.compressor_backend,
        model=settings.compressor_model_id(),
        loader=lambda: create_compressor(
            settings.compressor_backend,
            settings.compressor_model_id(),
            settings.device,
            settings.compressor_runtime,
            settings.torch_threads,
        ),
    )


def generator_slot(settings: Settings) -> ModelSlot[LocalGenerator]:
    return ModelSlot(
        name="generator",
        backend="transformers",
        model=settings.generator_model_id(),
        loader=lambda: LocalGenerator(
            settings.generator_model_id(), LOCAL_MODEL_ID, settings.device
        ),
    )


class InProcessModels:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._classifier = classifier_slot(settings)
        self._compressor = compressor_slot(settings)
        self.slots: list[ModelSlot[Any]] = [self._classifier, self._compressor]
        self.generator = generator_slot(settings) if settings.generator_enabled else None
        self.generation_slots = settings.generation_concurrency
        if self.generator is not None:
            self.slots.append(self.generator)
        self._metrics: ServiceMetrics | None = None
        self._classifier_tag = model_label(self._classifier.model)
        self._pool = InferencePool(settings.workers, settings.max_queue, settings.max_queue_wait_s)
        # Classification has its own thread and queue, and batches: compression (pool)
        # cannot hold it up, and concurrent prompts share one encoder pass.
        self._classifying: Batcher[ClassifyCall, Classification] = Batcher(
            "classify",
            lambda calls: self._classifier.get().classify_batch(calls),
            max_batch=settings.classify_max_batch,
            max_pending=settings.classify_max_queue,
            max_wait_s=settings.max_queue_wait_s,
            on_batch=self._batch_done,
        )
        self.queues: list[WorkQueue] = [self._pool, self._classifying]

    def observe(self, metrics: ServiceMetrics) -> None:
        self._metrics = metrics

    def start(self) -> None:
        import torch

        # Explicit, so several services on one machine do not oversubscribe the cores.
        torch.set_num_threads(self._settings.torch_threads)
        load_in_background(self.slots)

    def shutdown(self) -> None:
        self._pool.shutdown()
        self._classifying.shutdown()

    def _batch_done(self, stats: BatchStats) -> None:
        if self._metrics is None:
            return
        self._metrics.batch_size.labels("classify").observe(stats.size)
        self._metrics.inference_seconds.labels("classify", self._classifier_tag).observe(
            stats.seconds
        )
        for wait in stats.waits:
            self._metrics.queue_wait_seconds.labels("classify").observe(wait)

    def identity(self, name: ModelName) -> ModelIdentity:
        if name == "classifier":
            classifier = self._classifier.get()
            return ModelIdentity(classifier.backend, classifier.model)
        compressor = self._compressor.get()
        return ModelIdentity(compressor.method, compressor.model)

    async def classify(self, call: ClassifyCall) -> Classification:
        return await self._classifying.submit(call)

    async def compress(self, request: CompressRequest) -> Compression:
        model = self._compressor.get()
        tag = model_label(model.model)

        def timed() -> Compression:
            # The model's own work, the pool's queue wait excluded.
            started_at = time.perf_counter()
            try:
                return model.compress(request)
            finally:
                if self._metrics is not None:
                    elapsed = time.perf_counter() - started_at
                    self._metrics.inference_seconds.labels("compress", tag).observe(elapsed)

        return await self._pool.run(timed)

    async def report(self) -> ModelsReport:
        return ModelsReport(
            models={slot.name: slot.describe() for slot in self.slots},
            queues={
                "classify": QueueStatus(
                    max_batch=self._classifying.max_batch,
                    max_waiting=self._classifying.max_pending,
                    waiting=self._classifying.waiting,
                    running=self._classifying.running,
                ),
                "compress": QueueStatus(
                    max_batch=1,
                    max_waiting=self._settings.max_queue,
                    waiting=self._pool.waiting,
                    running=self._pool.running,
                ),
            },
        )
