"""The Ray Serve deployments: one per model, and the ingress that serves the HTTP API.

A model replica loads its model in its constructor, so Ray counts it RUNNING
(and routes to it) only once it can answer; a load that fails fails the
replica, and Ray reports the deployment unhealthy and tries again.
"""

import asyncio
import threading
from collections.abc import AsyncIterator
from typing import TypeVar

from ray import serve

from ..app import create_app
from ..classification import Classifier, ClassifyCall
from ..compression import Compressor
from ..local_generation import GenerationRequest, GenerationResult, LocalGenerator
from ..local_models import classifier_slot, compressor_slot, generator_slot
from ..logs import configure_logging
from ..model_access import Classified, Compressed
from ..model_slots import ModelSlot
from ..schemas import CompressRequest
from ..settings import Settings

T = TypeVar("T")


def load(slot: ModelSlot[T], settings: Settings) -> T:
    import torch

    configure_logging(settings.log_level, settings.log_format)
    # Several replicas share the machine's cores: each gets the threads it was given.
    torch.set_num_threads(settings.torch_threads)
    slot.load()
    if slot.instance is None:
        raise RuntimeError(f"could not load the {slot.name} model: {slot.error}")
    return slot.instance


@serve.deployment(name="classifier")
class ClassifierReplica:
    def __init__(self, settings: Settings) -> None:
        self._model: Classifier = load(classifier_slot(settings), settings)
        self._classify_batch.set_max_batch_size(settings.classify_max_batch)

    # Timeout 0: a request that finds the replica idle runs at once; those that arrive
    # while a batch runs go together in the next one (as the local Batcher does).
    @serve.batch(max_batch_size=8, batch_wait_timeout_s=0.0)
    async def _classify_batch(self, calls: list[ClassifyCall]) -> list[Classified]:
        scores = await asyncio.to_thread(self._model.classify_batch, calls)
        return [Classified(labels, self._model.backend, self._model.model) for labels in scores]

    async def classify(self, call: ClassifyCall) -> Classified:
        return await self._classify_batch(call)


@serve.deployment(name="compressor")
class CompressorReplica:
    def __init__(self, settings: Settings) -> None:
        self._model: Compressor = load(compressor_slot(settings), settings)

    async def compress(self, request: CompressRequest) -> Compressed:
        result = await asyncio.to_thread(self._model.compress, request)
        return Compressed(result, self._model.method, self._model.model)


STARTED = "started"


@serve.deployment(name="generator")
class GeneratorReplica:
    def __init__(self, settings: Settings) -> None:
        self._model: LocalGenerator = load(generator_slot(settings), settings)

    async def generate(self, job: GenerationRequest) -> AsyncIterator[str | GenerationResult]:
        """Yields STARTED (or raises the caller's error), the text pieces, then the result."""
        cancel = threading.Event()
        pieces, result, thread = await asyncio.to_thread(self._model.generate, job, cancel)
        try:
            yield STARTED
            while (piece := await asyncio.to_thread(next, pieces, None)) is not None:
                yield piece
            await asyncio.to_thread(thread.join)
            yield result
        finally:
            # The caller left (Ray cancels this generator) or it ended: stop the model
            # and free the replica only once it has really stopped.
            cancel.set()
            await asyncio.shield(asyncio.to_thread(thread.join))


@serve.deployment(name="ingress", max_ongoing_requests=1024)
@serve.ingress()
class Ingress:
    """app.py's FastAPI app, its models reached through the deployments' handles."""

    def __init__(self, settings: Settings, classifier, compressor, generator=None) -> None:
        from .remote_models import RemoteModels

        configure_logging(settings.log_level, settings.log_format)
        models = RemoteModels(settings, classifier, compressor, generator)
        self._app = create_app(settings, models=models)

    def __serve_build_asgi_app__(self):
        return self._app
