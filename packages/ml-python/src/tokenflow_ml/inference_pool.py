"""Runs CPU-bound model calls off the event loop, with a bounded queue."""

import asyncio
import contextvars
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Literal, TypeVar

T = TypeVar("T")
BusyReason = Literal["queue_full", "queue_timeout"]


class Busy(Exception):
    """No capacity now: the caller should retry later."""

    def __init__(self, message: str, reason: BusyReason) -> None:
        super().__init__(message)
        self.reason = reason


class InferencePool:
    def __init__(self, workers: int, max_queue: int, max_wait_s: float) -> None:
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="inference")
        self._capacity = workers + max_queue
        self._max_wait_s = max_wait_s
        self._in_flight = 0
        self._running = 0
        self._lock = threading.Lock()

    @property
    def in_flight(self) -> int:
        """Accepted and not finished: waiting for a worker or running on one."""
        return self._in_flight

    @property
    def running(self) -> int:
        return self._running

    @property
    def waiting(self) -> int:
        # Never negative: a cancelled caller leaves at once, its model call only when done.
        return max(0, self._in_flight - self._running)

    async def run(self, fn: Callable[[], T]) -> T:
        # Refusing at once beats piling up requests that would time out anyway.
        with self._lock:
            if self._in_flight >= self._capacity:
                raise Busy(f"all {self._capacity} inference slots are taken", "queue_full")
            self._in_flight += 1
        queued_at = time.monotonic()

        def run_unless_stale() -> T:
            # Whoever queued this has most likely given up by now: do not spend the CPU.
            waited = time.monotonic() - queued_at
            if waited > self._max_wait_s:
                raise Busy(f"the request waited {waited:.0f} s in the queue", "queue_timeout")
            with self._lock:
                self._running += 1
            try:
                return fn()
            finally:
                with self._lock:
                    self._running -= 1

        # The caller's context goes along, so the model's log lines and spans carry its
        # request id and trace (a plain executor.submit would drop them).
        context = contextvars.copy_context()
        try:
            return await asyncio.wrap_future(self._executor.submit(context.run, run_unless_stale))
        finally:
            with self._lock:
                self._in_flight -= 1

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
