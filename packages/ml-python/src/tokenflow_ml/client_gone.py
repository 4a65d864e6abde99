"""Work for a request is dropped when its client disconnects.

uvicorn does not cancel a plain (non-streaming) handler when the client goes: a
classification the gateway gave up on at its routing deadline would still hold a
queue place and a share of an encoder pass.
"""

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

from fastapi import Request

T = TypeVar("T")


class ClientGone(Exception):
    """The client disconnected before the answer was ready."""


async def _disconnect(request: Request) -> None:
    # The body is read by now, so the next message is the disconnect (or nothing, ever).
    while (await request.receive())["type"] != "http.disconnect":
        pass


async def unless_client_leaves(request: Request, work: Awaitable[T]) -> T:
    """`work`'s result, or ClientGone (with `work` cancelled) if the client leaves first."""
    task = asyncio.ensure_future(work)
    watcher = asyncio.ensure_future(_disconnect(request))
    try:
        await asyncio.wait({task, watcher}, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            return task.result()
        raise ClientGone()
    finally:
        watcher.cancel()
        task.cancel()  # a no-op once it is done
