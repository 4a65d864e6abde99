"""The Ray Serve deployments: one per model, and the ingress that serves the HTTP API.

A model replica loads its model in its constructor, so Ray counts it RUNNING
(and routes to it) only once it can answer; a load that fails fails the
replica, and Ray reports the deployment unhealthy and tries again.
"""

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from fastapi import FastAPI
from ray import serve
from ray.serve.handle import DeploymentHandle

from ..app import create_app
from ..batching import Batcher
from ..classification import Classification, Classifier, ClassifyCall
from ..compression import Compression, Compressor
from ..local_generation import GenerationRequest, GenerationResult, LocalGenerator
from ..logs import configure_logging, route_transformers_logs
from ..model_slots import ModelSlot
from ..models_in_process import classifier_slot, compressor_slot, generator_slot
from ..schemas import CompressRequest
from ..settings import Settings
from .generation_stream import Started

T = TypeVar("T")


def load(slot: ModelSlot[T], settings: Settings) -> T:
    import torch

    configure_logging(settings.log_level, settings.log_format)
    route_transformers_logs()
    # Several replicas share the machine's cores: each gets the threads it was given.
    torch.set_num_threads(settings.torch_threads)
    slot.load()
    if slot.instance is None:
        raise RuntimeError(f"could not load the {slot.name} model: {slot.error}")
    return slot.instance


@serve.deployment(name="classifier")
class ClassifierReplica:
    """Batches with the service's own Batcher, not @serve.batch.

    Ray's @serve.batch forms each batch as soon as the last one has been handed to its
    runner, then waits for the model: with no wait, the requests that arrive while a
    pass runs go one by one (measured: 40 requests 5 ms apart over a 50 ms pass gave 40
    batches of 1; the Batcher gave 1, 8, 8, 8, 8, 7), and with a wait every lone request
    pays it. The Batcher takes everything that arrived during a pass into the next one,
    drops requests whose caller left or that waited too long, and reruns a failed batch
    one request at a time.
    """

    def __init__(self, settings: Settings, max_ongoing: int) -> None:
        self._model: Classifier = load(classifier_slot(settings), settings)
        self._batcher: Batcher[ClassifyCall, Classification] = Batcher(
            "classify",
            self._model.classify_batch,
            max_batch=settings.classify_max_batch,
            # Ray admits at most max_ongoing requests to a replica: they all fit.
            max_pending=max_ongoing,
            max_wait_s=settings.max_queue_wait_s,
        )

    async def classify(self, call: ClassifyCall) -> Classification:
        return await self._batcher.submit(call)


@serve.deployment(name="compressor")
class CompressorReplica:
    def __init__(self, settings: Settings) -> None:
        self._model: Compressor = load(compressor_slot(settings), settings)
        # Ray frees a cancelled request's place at once, while its compression still
        # runs: one thread of its own keeps it one compression at a time regardless.
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="compress")

    async def compress(self, request: CompressRequest) -> Compression:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._worker, self._model.compress, request)


@serve.deployment(name="generator")
class GeneratorReplica:
    def __init__(self, settings: Settings) -> None:
        self._model: LocalGenerator = load(generator_slot(settings), settings)
        # Ray frees a cancelled request's place at once, while its model thread is still
        # stopping: these slots are given back only once it has stopped.
        self._slots = asyncio.Semaphore(settings.generation_concurrency)

    async def generate(
        self, job: GenerationRequest
    ) -> AsyncIterator[Started | str | GenerationResult]:
        await self._slots.acquire()
        cancel = threading.Event()
        setup = asyncio.ensure_future(asyncio.to_thread(self._model.generate, job, cancel))
        try:
            pieces, result, thread = await asyncio.shield(setup)
        except BaseException:
            # Cancelled while the prompt was tokenised (the model may start all the
            # same), or the caller's error (ContextTooLong): the slot is freed either way.
            cancel.set()
            with contextlib.suppress(BaseException):
                _, _, started = await setup
                await asyncio.to_thread(started.join)
            self._slots.release()
            raise
        try:
            yield Started(prompt_tokens=result.prompt_tokens)
            while (piece := await asyncio.to_thread(next, pieces, None)) is not None:
                yield piece
            await asyncio.to_thread(thread.join)
            yield result
        finally:
            # The caller left (Ray cancels this generator) or it ended: stop the model
            # and free the replica only once it has really stopped.
            cancel.set()
            stopping = asyncio.ensure_future(asyncio.to_thread(thread.join))
            stopping.add_done_callback(lambda _: self._slots.release())
            await asyncio.shield(stopping)


@serve.deployment(name="ingress", max_ongoing_requests=1024)
@serve.ingress()
class Ingress:
    """app.py's FastAPI app, its models reached through the deployments' handles."""

    def __init__(
        self,
        settings: Settings,
        generation_replicas: int,
        classifier: DeploymentHandle,
        compressor: DeploymentHandle,
        generator: DeploymentHandle | None = None,
    ) -> None:
        from .remote_models import RemoteModels

        configure_logging(settings.log_level, settings.log_format)
        models = RemoteModels(settings, generation_replicas, classifier, compressor, generator)
        self._app = create_app(settings, models=models)

    def __serve_build_asgi_app__(self) -> FastAPI:
        return self._app
