"""What the HTTP routes need from the models, wherever the models run.

`InProcessModels` (models_in_process.py) runs them in this process; `RemoteModels`
(ray_serve/remote_models.py) calls Ray Serve deployments that hold them. The
routes, their validation, errors and metrics stay the same either way, so the
HTTP API is exactly the same in both modes.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from .classification import Classification, ClassifyCall
from .compression import Compression
from .local_generation import ChatModel
from .metrics import ServiceMetrics, WorkQueue
from .model_slots import ModelSlot
from .schemas import CompressRequest, ModelStatus, QueueStatus, ReplicaStatus

ModelName = Literal["classifier", "compressor"]


@dataclass(frozen=True)
class ModelIdentity:
    """What answers: the backend (a compressor's method) and the model id or path."""

    backend: str
    model: str


@dataclass(frozen=True)
class ModelsReport:
    """The models' half of /readyz."""

    models: dict[str, ModelStatus]
    queues: dict[str, QueueStatus]
    replicas: dict[str, ReplicaStatus] | None = None


class GeneratorSource(Protocol):
    """The local chat model, as /v1 gets it (a ModelSlot in this process)."""

    def get(self) -> ChatModel: ...


class Models(Protocol):
    # Read-only here, so an implementation may hold a list, a tuple or a narrower type.
    @property
    def queues(self) -> Sequence[WorkQueue]:
        """Read by the metrics at scrape time; empty where the models run elsewhere."""
        ...

    @property
    def slots(self) -> Sequence[ModelSlot[Any]]: ...

    @property
    def generator(self) -> GeneratorSource | None: ...

    @property
    def generation_slots(self) -> int:
        """Generations /v1 lets run at once (beyond them it answers 503 busy)."""
        ...

    def observe(self, metrics: ServiceMetrics) -> None:
        """Called once the metrics exist: batch sizes, waits and model times go there."""

    def start(self) -> None: ...

    def shutdown(self) -> None: ...

    def identity(self, name: ModelName) -> ModelIdentity:
        """Raises NotReady while the model cannot answer (loading, or failed to load)."""
        ...

    async def classify(self, call: ClassifyCall) -> Classification: ...

    async def compress(self, request: CompressRequest) -> Compression: ...

    async def report(self) -> ModelsReport: ...
