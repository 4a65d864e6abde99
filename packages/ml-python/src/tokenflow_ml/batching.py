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
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from .inference_pool import Busy

log = logging.getLogger("tokenflow_ml.batching")

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
        self._closed = False
        self._draining: asyncio.Task[None] | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"batch-{name}")

    @property
    def waiting(self) -> int:
        """Requests queued for a batch (a caller that left counts until its turn comes).

        len() of a deque is safe from any thread: /readyz and /metrics read this from
        worker threads while the event loop changes the queue.
        """
        return len(self._pending)

    @property
    def running(self) -> int:
        """Requests in the batch on the model now."""
        return self._running

    async def submit(self, item: In) -> Out:
        if self._closed:
            raise Busy(f"the {self.name} queue is shutting down", "queue_full")
        if len(self._pending) >= self.max_pending:
            # Callers that left still hold places until their turn: free those first.
            self._pending = deque(job for job in self._pending if not job.future.done())
        if len(self._pending) >= self.max_pending:
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
                try:
                    results = await loop.run_in_executor(self._executor, self._run_each, batch)
                except BaseException as error:
                    # Whatever went wrong (the executor shut down, the loop is cancelled),
                    # no caller in this batch may be left waiting.
                    for job in batch:
                        if not job.future.done():
                            job.future.set_exception(error)
                    raise
                finally:
                    self._running = 0
                for job, result in zip(batch, results, strict=True):
                    if job.future.done():
                        continue
                    if isinstance(result, BaseException):
                        job.future.set_exception(result)
                    else:
                        job.future.set_result(result)
                self._report(BatchStats(len(batch), time.monotonic() - started, waits))
        finally:
            self._draining = None

    def _report(self, stats: BatchStats) -> None:
        # After the callers have their answers: a failing report must not hold them up.
        if self._on_batch is None:
            return
        try:
            self._on_batch(stats)
        except Exception:
            log.exception("the %s batch report failed", self.name)

    def _run(self, context: contextvars.Context, items: list[In]) -> list[Out]:
        outcomes = list(context.run(self._run_batch, items))
        if len(outcomes) != len(items):
            raise RuntimeError(f"{len(outcomes)} results for a batch of {len(items)}")
        return outcomes

    def _run_each(self, batch: list[_Job[In, Out]]) -> list[Out | BaseException]:
        """The batch at once; should it fail, each request alone, so one cannot fail the rest.

        Runs in the first caller's context (what the model logs carries a request id; each
        request's span is in its own route), and a rerun in its own caller's.
        """
        try:
            return list(self._run(batch[0].context, [job.item for job in batch]))
        except Exception as error:
            if len(batch) == 1:
                log.warning("a %s request failed: %s", self.name, error)
                return [error]
            log.warning(
                "a %s batch of %d failed (%s): each runs alone", self.name, len(batch), error
            )
        alone: list[Out | BaseException] = []
        for job in batch:
            try:
                alone.extend(self._run(job.context, [job.item]))
            except Exception as error:
                alone.append(error)
        return alone

    def shutdown(self) -> None:
        """Refuses new requests, and fails the queued ones rather than leave them waiting."""
        self._closed = True
        while self._pending:
            job = self._pending.popleft()
            if not job.future.done():
                job.future.set_exception(
                    Busy(f"the {self.name} queue is shutting down", "queue_full")
                )
        self._executor.shutdown(wait=False, cancel_futures=True)
