"""Loads the configured models once, in the background, and reports their state."""

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from .logs import route_transformers_logs
from .schemas import ModelStatus

log = logging.getLogger("tokenflow_ml.models")
T = TypeVar("T")


class NotReady(Exception):
    """The model a request needs is still loading, or failed to load."""

    def __init__(self, message: str, *, failed: bool) -> None:
        super().__init__(message)
        self.failed = failed


@dataclass
class ModelSlot(Generic[T]):
    """One model the service serves: how to load it, and what came of loading it."""

    name: str
    backend: str
    model: str
    loader: Callable[[], T]
    status: str = "loading"
    error: str | None = None
    load_ms: float | None = None
    instance: T | None = field(default=None, repr=False)

    def load(self) -> None:
        started = time.perf_counter()
        log.info("loading %s: backend=%s model=%s", self.name, self.backend, self.model)
        try:
            self.instance = self.loader()
        except Exception as error:  # any failure must become a readable status, not a crash
            self.status = "failed"
            self.error = f"{type(error).__name__}: {error}"
            log.error("could not load %s (%s): %s", self.name, self.model, self.error)
            return
        self.load_ms = round((time.perf_counter() - started) * 1000, 1)
        self.status = "ready"
        log.info("%s ready in %.0f ms", self.name, self.load_ms)

    def get(self) -> T:
        if self.status == "ready" and self.instance is not None:
            return self.instance
        if self.status == "failed":
            raise NotReady(f"the {self.name} model failed to load: {self.error}", failed=True)
        raise NotReady(f"the {self.name} model is still loading", failed=False)

    def describe(self) -> ModelStatus:
        return ModelStatus(
            status=self.status,
            backend=self.backend,
            model=self.model,
            load_ms=self.load_ms,
            error=self.error,
        )


def load_in_background(slots: list[ModelSlot[Any]]) -> threading.Thread:
    """Loads the slots one after another on a daemon thread, so /healthz answers at once.

    One after another on purpose: Transformers builds models under process-wide
    state (lazy imports, meta-device initialisation), and two loads at once
    fail with errors such as "Cannot copy out of meta tensor".
    """

    def load_all() -> None:
        route_transformers_logs()
        for slot in slots:
            slot.load()

    thread = threading.Thread(target=load_all, name="model-loader", daemon=True)
    thread.start()
    return thread
