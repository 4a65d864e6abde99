"""`Models` (model_access.py) over Ray Serve deployment handles, for the ingress.

Ray's own failures become the service's usual answers: a full deployment
queue is Busy (503 with Retry-After, which the gateway's breaker ignores), a
replica lost with no other to take over is a plain 503; a caller that left
cancels its request on the replica too.
"""

import asyncio
import logging
import queue
import threading
from collections.abc import Iterator

from ray import serve
from ray.exceptions import RayActorError, RayTaskError
from ray.serve.exceptions import BackPressureError, DeploymentUnavailableError
from ray.serve.handle import DeploymentHandle

from ..classification import ClassifyCall
from ..inference_pool import Busy
from ..local_generation import GenerationRequest, GenerationResult
from ..local_model import LOCAL_MODEL_ID
from ..metrics import ServiceMetrics
from ..model_access import Classified, Compressed, ModelsReport
from ..model_slots import NotReady
from ..schemas import CompressRequest, ModelStatus, ReplicaStatus
from ..settings import Settings
from .deployments import STARTED
from .options import APP_NAME

log = logging.getLogger("tokenflow_ml.ray")


def cause(error: RayTaskError) -> BaseException:
    """The replica's own exception (UnsupportedOption, say), not Ray's traceback."""
    return error.cause if isinstance(error.cause, BaseException) else error


def plain(state) -> str:
    """An enum of Ray's, or already its name (serve.status() gives either, by version)."""
    return str(getattr(state, "value", state))


class Lost(NotReady):
    """The replica died under the request and Ray had no other to send it to."""


async def call(name: str, method, *args):
    """One call to a deployment, its failures turned into the answers the routes give."""
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
        # Ray's router already sends a dead replica's requests to another where it can
        # (the replica-kill test sees no failure): what reaches here had nowhere to go.
        log.warning("no %s replica could answer: %s", name, error)
        raise Lost(f"no {name} replica could answer: {error}", failed=True) from None


class RemoteGenerator:
    """The generator deployment, shaped like LocalGenerator for /v1 (openai_api.py)."""

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
        except RayTaskError as error:
            raise cause(error) from None
        except (RayActorError, DeploymentUnavailableError) as error:
            raise Lost(f"the generator replica died: {error}", failed=True) from None
        assert first == STARTED
        result = GenerationResult()
        pieces: queue.SimpleQueue[str | None] = queue.SimpleQueue()

        def relay() -> None:
            try:
                for item in stream:
                    if cancel.is_set():
                        stream.cancel()
                        result.cancelled = True
                        result.finish_reason = "cancelled"
                        return
                    if isinstance(item, GenerationResult):
                        result.__dict__.update(item.__dict__)
                    else:
                        pieces.put(item)
            except Exception as error:  # reported to the caller like a failed local run
                result.error = f"{type(error).__name__}: {error}"
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
        classifier: DeploymentHandle,
        compressor: DeploymentHandle,
        generator: DeploymentHandle | None,
    ) -> None:
        self._settings = settings
        self._classifier = classifier
        self._compressor = compressor
        self.generator = (
            RemoteGeneratorSource(RemoteGenerator(generator, settings.generator_model_id()))
            if generator is not None
            else None
        )
        self._identity = {
            "classifier": (settings.classifier_backend, settings.classifier_model_id()),
            "compressor": (settings.compressor_backend, settings.compressor_model_id()),
            "generator": ("transformers", settings.generator_model_id()),
        }

    def observe(self, metrics: ServiceMetrics) -> None:
        # Batch sizes and model times are measured in the replicas: Ray's metrics have them.
        pass

    def start(self) -> None:
        pass

    def shutdown(self) -> None:
        pass

    async def classify(self, call_: ClassifyCall) -> Classified:
        return await call("classifier", self._classifier.classify, call_)

    async def compress(self, request: CompressRequest) -> Compressed:
        return await call("compressor", self._compressor.compress, request)

    async def report(self) -> ModelsReport:
        # serve.status() asks the controller, a blocking call: not on the event loop.
        status = await asyncio.to_thread(serve.status)
        app = status.applications.get(APP_NAME)
        deployments = app.deployments if app else {}
        names = ["classifier", "compressor"] + (["generator"] if self.generator else [])
        models: dict[str, ModelStatus] = {}
        replicas: dict[str, ReplicaStatus] = {}
        for name in names:
            backend, model = self._identity[name]
            deployment = deployments.get(name)
            if deployment is None:
                models[name] = ModelStatus(status="loading", backend=backend, model=model)
                continue
            states = {plain(state): count for state, count in deployment.replica_states.items()}
            health = plain(deployment.status)
            replicas[name] = ReplicaStatus(
                status=health, replicas=states, message=deployment.message
            )
            running = states.get("RUNNING", 0)
            failed = health in ("UNHEALTHY", "DEPLOY_FAILED") and not running
            models[name] = ModelStatus(
                status="ready" if running else "failed" if failed else "loading",
                backend=backend,
                model=model,
                error=(deployment.message or None) if failed else None,
            )
        return ModelsReport(models=models, queues={}, replicas=replicas)
