"""Runs CPU-bound model calls off the event loop, with a bounded queue."""

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


class Busy(Exception):
    """Every worker is busy and the queue is full: the caller should retry later."""


class InferencePool:
    def __init__(self, workers: int, max_queue: int) -> None:
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="inference")
        self._capacity = workers + max_queue
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
        try:
            return await asyncio.wrap_future(self._executor.submit(fn))
        finally:
            with self._lock:
                self._in_flight -= 1

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
