"""Dynamic batching: concurrent requests for one model run as one forward pass.

Requests that arrive while the model is busy wait together, and the next batch
takes all of them (up to `max_batch`); a request that finds the model idle runs
at once, so batching adds no wait when the service is quiet. Each batcher owns
one thread, so one model's queue (a 32k-token compression) never holds up
another's (classification). Past `max_pending` waiting requests the service
refuses at once; a request that waited past `max_wait_s`, or whose caller left,
is dropped before it costs any compute.
"""

import asyncio
import contextvars
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from .inference_pool import Busy

In = TypeVar("In")
Out = TypeVar("Out")


@dataclass
class _Job(Generic[In, Out]):
    item: In
    future: "asyncio.Future[Out]"
    context: contextvars.Context
    queued_at: float = field(default_factory=time.monotonic)


@dataclass
class BatchStats:
    """What a batcher reports after each batch (for metrics)."""

    size: int
    seconds: float
    waits: list[float]


class Batcher(Generic[In, Out]):
    def __init__(
        self,
        name: str,
        run_batch: Callable[[list[In]], Sequence[Out]],
        *,
        max_batch: int,
        max_pending: int,
        max_wait_s: float,
        on_batch: Callable[[BatchStats], None] | None = None,
    ) -> None:
        self.name = name
        self.max_batch = max_batch
        self.max_pending = max_pending
        self._run_batch = run_batch
        self._max_wait_s = max_wait_s
        self._on_batch = on_batch
        self._pending: deque[_Job[In, Out]] = deque()
        self._running = 0
        self._draining: asyncio.Task | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"batch-{name}")

    @property
    def waiting(self) -> int:
        return sum(1 for job in self._pending if not job.future.done())

    @property
    def running(self) -> int:
        """Requests in the batch on the model now."""
        return self._running

    async def submit(self, item: In) -> Out:
        if self.waiting >= self.max_pending:
            raise Busy(f"all {self.max_pending} {self.name} queue places are taken", "queue_full")
        loop = asyncio.get_running_loop()
        job: _Job[In, Out] = _Job(item, loop.create_future(), contextvars.copy_context())
        self._pending.append(job)
        if self._draining is None:
            self._draining = loop.create_task(self._drain())
        # A cancelled caller (client gone) cancels its future; the drain then skips it.
        return await job.future

    def _next_batch(self) -> list[_Job[In, Out]]:
        batch: list[_Job[In, Out]] = []
        now = time.monotonic()
        while self._pending and len(batch) < self.max_batch:
            job = self._pending.popleft()
            if job.future.done():
                continue  # the caller left
            waited = now - job.queued_at
            if waited > self._max_wait_s:
                job.future.set_exception(
                    Busy(f"the request waited {waited:.0f} s in the queue", "queue_timeout")
                )
                continue
            batch.append(job)
        return batch

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while batch := self._next_batch():
                self._running = len(batch)
                started = time.monotonic()
                waits = [started - job.queued_at for job in batch]
                # The first caller's context goes along, so what the model logs carries a
                # request id (one batch serves several: their spans are in their own routes).
                results = await loop.run_in_executor(
                    self._executor, batch[0].context.run, self._run_each, [j.item for j in batch]
                )
                self._running = 0
                if self._on_batch is not None:
                    self._on_batch(BatchStats(len(batch), time.monotonic() - started, waits))
                for job, result in zip(batch, results, strict=True):
                    if job.future.done():
                        continue
                    if isinstance(result, BaseException):
                        job.future.set_exception(result)
                    else:
                        job.future.set_result(result)
        finally:
            self._running = 0
            self._draining = None

    def _run_each(self, items: list[In]) -> list[Out | BaseException]:
        """The batch at once; should it fail, each request alone, so one cannot fail the rest."""
        try:
            return list(self._run_batch(items))
        except Exception as error:
            if len(items) == 1:
                return [error]
        outcomes: list[Out | BaseException] = []
        for item in items:
            try:
                outcomes.extend(self._run_batch([item]))
            except Exception as error:
                outcomes.append(error)
        return outcomes

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
