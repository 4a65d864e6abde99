"""Runs CPU-bound model calls off the event loop, with a bounded queue."""

import asyncio
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


class Busy(Exception):
    """No capacity now: the caller should retry later."""


class InferencePool:
    def __init__(self, workers: int, max_queue: int, max_wait_s: float) -> None:
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="inference")
        self._capacity = workers + max_queue
        self._max_wait_s = max_wait_s
        self._in_flight = 0
        self._lock = threading.Lock()

    @property
    def in_flight(self) -> int:
        return self._in_flight

    async def run(self, fn: Callable[[], T]) -> T:
        # Refusing at once beats piling up requests that would time out anyway.
        with self._lock:
            if self._in_flight >= self._capacity:
                raise Busy(f"all {self._capacity} inference slots are taken")
            self._in_flight += 1
        queued_at = time.monotonic()

        def run_unless_stale() -> T:
            # Whoever queued this has most likely given up by now: do not spend the CPU.
            waited = time.monotonic() - queued_at
            if waited > self._max_wait_s:
                raise Busy(f"the request waited {waited:.0f} s in the queue")
            return fn()

        try:
            return await asyncio.wrap_future(self._executor.submit(run_unless_stale))
        finally:
            with self._lock:
                self._in_flight -= 1

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
