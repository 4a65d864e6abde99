"""`Models` (model_access.py) over Ray Serve deployment handles, for the ingress.

Ray's own failures become the service's usual answers: a full deployment
queue is Busy (503 with Retry-After, which the gateway's breaker ignores); a
request whose replica died under it is sent again (classify and compress are
safe to repeat; Ray's router already re-sends those it can: in the test that
kills a replica under load none reached this code), and one that still finds
no replica gets a plain 503; a caller that left cancels its request on the
replica too.
"""

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ray import serve
from ray.exceptions import RayActorError, RayError, RayTaskError
from ray.serve.exceptions import BackPressureError, DeploymentUnavailableError
from ray.serve.handle import DeploymentHandle

from ..classification import Classification, ClassifyCall
from ..compression import Compression
from ..inference_pool import Busy
from ..local_generation import GenerationRequest, GenerationResult
from ..local_model import LOCAL_MODEL_ID
from ..metrics import ServiceMetrics
from ..model_access import ModelIdentity, ModelName, ModelsReport
from ..model_slots import NotReady
from ..schemas import CompressRequest, ModelStatus, ReplicaStatus
from ..settings import Settings
from .generation_stream import Started

log = logging.getLogger("tokenflow_ml.ray")

#: Tries of a request whose replica dies under it: the first and one more.
ATTEMPTS = 2
#: How long /readyz reuses Ray's status, and waits for a fresh one.
STATUS_TTL_S = 1.0
STATUS_TIMEOUT_S = 2.0
MESSAGE_CHARS = 300


def cause(error: RayTaskError) -> BaseException:
    """The replica's own exception (UnsupportedOption, say), never Ray's traceback."""
    if isinstance(error.cause, BaseException):
        return error.cause
    return RuntimeError(f"a replica failed: {first_line(str(error))}")


def plain(state: object) -> str:
    """An enum of Ray's, or already its name (serve.status() gives either, by version)."""
    return str(getattr(state, "value", state))


def first_line(message: str) -> str:
    """Ray's messages can hold a whole traceback (paths, hosts): /readyz shows its start."""
    line = message.strip().splitlines()[0] if message.strip() else ""
    return line[:MESSAGE_CHARS]


class Lost(NotReady):
    """The replica died under the request and there was no other to take it."""


# Ray is Any to mypy (pyproject.toml), so is what a deployment's method gives back.
async def call(name: str, method: Any, *args: object) -> Any:
    """One request to a deployment, its failures turned into the answers the routes give."""
    for attempt in range(1, ATTEMPTS + 1):
        response = method.remote(*args)
        try:
            return await response
        except asyncio.CancelledError:
            response.cancel()  # the client left: the replica drops the work too
            raise
        except BackPressureError as error:
            raise Busy(f"every {name} replica's queue is full ({error})", "queue_full") from None
        except RayTaskError as error:
            raise cause(error) from None
        except (RayActorError, DeploymentUnavailableError) as error:
            log.warning("a %s replica died under a request (try %d): %s", name, attempt, error)
            last = first_line(str(error))
    raise Lost(f"no {name} replica could answer: {last}", failed=True)


class RemoteGenerator:
    """The generator deployment, shaped like LocalGenerator for /v1 (chat_session.py)."""

    def __init__(self, handle: DeploymentHandle, model: str) -> None:
        self._handle = handle.options(stream=True)
        self.model = model
        self.model_id = LOCAL_MODEL_ID

    def generate(
        self, request: GenerationRequest, cancel: threading.Event
    ) -> tuple[Iterator[str], GenerationResult, threading.Thread]:
        # Runs on a worker thread (openai_api.py), where Ray's blocking iteration is allowed.
        stream = self._handle.generate.remote(request)
        try:
            first = next(stream)
        except BackPressureError:
            raise Busy("every generator replica is busy", "queue_full") from None
        except RayTaskError as error:
            raise cause(error) from None
        except (RayError, DeploymentUnavailableError, StopIteration) as error:
            # A replica lost, a request Ray cancelled, anything of Ray's own: a server
            # fault (503), not the caller's (chat_session.py answers other errors 400).
            lost = f"the generator replica could not answer: {first_line(str(error))}"
            raise Lost(lost, failed=True) from None
        if not isinstance(first, Started):
            raise Lost(f"the generator replica sent {type(first).__name__} first", failed=True)
        result = GenerationResult(prompt_tokens=first.prompt_tokens)
        pieces: queue.SimpleQueue[str | None] = queue.SimpleQueue()

        def relay() -> None:
            try:
                if not cancel.is_set():
                    for item in stream:
                        if isinstance(item, GenerationResult):
                            result.__dict__.update(item.__dict__)
                        else:
                            pieces.put(item)
                        if cancel.is_set():
                            break
                if cancel.is_set() and not result.completion_tokens:
                    result.cancelled = True
                    result.finish_reason = "cancelled"
                    stream.cancel()
                    # Until the replica has stopped: the slot is free only then.
                    for _ in stream:
                        pass
            except Exception as error:  # a cancelled stream ends in an error: expected
                if not result.cancelled:
                    failure = cause(error) if isinstance(error, RayTaskError) else error
                    result.error = f"{type(failure).__name__}: {first_line(str(failure))}"
            finally:
                pieces.put(None)

        thread = threading.Thread(target=relay, name="generate-relay", daemon=True)
        thread.start()

        def text() -> Iterator[str]:
            while (piece := pieces.get()) is not None:
                yield piece

        return text(), result, thread


class RemoteGeneratorSource:
    def __init__(self, generator: RemoteGenerator) -> None:
        self._generator = generator

    def get(self) -> RemoteGenerator:
        return self._generator


class RemoteModels:
    queues = ()
    slots = ()

    def __init__(
        self,
        settings: Settings,
        generation_replicas: int,
        classifier: DeploymentHandle,
        compressor: DeploymentHandle,
        generator: DeploymentHandle | None,
    ) -> None:
        self._classifier = classifier
        self._compressor = compressor
        self.generator = (
            RemoteGeneratorSource(RemoteGenerator(generator, settings.generator_model_id()))
            if generator is not None
            else None
        )
        # /v1's gate admits what all generator replicas can take, not one replica's share.
        self.generation_slots = settings.generation_concurrency * generation_replicas
        self._identity = {
            "classifier": ModelIdentity(
                settings.classifier_backend, settings.classifier_model_id()
            ),
            "compressor": ModelIdentity(
                settings.compressor_backend, settings.compressor_model_id()
            ),
            "generator": ModelIdentity("transformers", settings.generator_model_id()),
        }
        # serve.status() is a blocking call to Ray's controller: on a thread of its own,
        # so a slow controller cannot take the threads /v1 streams on.
        self._status_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ray-status")
        self._status: tuple[float, Any] | None = None
        self._asking: asyncio.Future[Any] | None = None

    def observe(self, metrics: ServiceMetrics) -> None:
        # Batch sizes and model times are measured in the replicas: Ray's metrics have them.
        pass

    def start(self) -> None:
        pass

    def shutdown(self) -> None:
        self._status_thread.shutdown(wait=False, cancel_futures=True)

    def identity(self, name: ModelName) -> ModelIdentity:
        # A replica only runs once its model has loaded: nothing to wait for here.
        return self._identity[name]

    async def classify(self, request: ClassifyCall) -> Classification:
        result: Classification = await call("classifier", self._classifier.classify, request)
        return result

    async def compress(self, request: CompressRequest) -> Compression:
        compression: Compression = await call("compressor", self._compressor.compress, request)
        return compression

    async def _serve_status(self) -> Any:
        """Ray's status, asked at most once a second and once at a time; the last one
        when the controller is slow (the replicas serve on without it)."""
        now = time.monotonic()
        if self._status is not None and now - self._status[0] <= STATUS_TTL_S:
            return self._status[1]
        if self._asking is None or self._asking.done():
            loop = asyncio.get_running_loop()
            self._asking = loop.run_in_executor(self._status_thread, serve.status)
        try:
            fresh = await asyncio.wait_for(asyncio.shield(self._asking), STATUS_TIMEOUT_S)
        except TimeoutError:
            if self._status is None:
                raise
            return self._status[1]
        self._status = (time.monotonic(), fresh)
        return fresh

    async def report(self) -> ModelsReport:
        try:
            status = await self._serve_status()
        except TimeoutError:
            status = None
        app_name = serve.get_replica_context().app_name
        app = status.applications.get(app_name) if status is not None else None
        deployments = app.deployments if app else {}
        names = ["classifier", "compressor"] + (["generator"] if self.generator else [])
        models: dict[str, ModelStatus] = {}
        replicas: dict[str, ReplicaStatus] = {}
        for name in names:
            who = self._identity[name]
            deployment = deployments.get(name)
            if deployment is None:
                error = None if status is not None else "Ray's controller did not answer in time"
                models[name] = ModelStatus(
                    status="loading", backend=who.backend, model=who.model, error=error
                )
                continue
            states = {plain(state): count for state, count in deployment.replica_states.items()}
            health = plain(deployment.status)
            message = first_line(deployment.message or "")
            replicas[name] = ReplicaStatus(status=health, replicas=states, message=message)
            running = states.get("RUNNING", 0)
            failed = health in ("UNHEALTHY", "DEPLOY_FAILED") and not running
            models[name] = ModelStatus(
                status="ready" if running else "failed" if failed else "loading",
                backend=who.backend,
                model=who.model,
                error=(message or None) if failed else None,
            )
        return ModelsReport(models=models, queues={}, replicas=replicas)
