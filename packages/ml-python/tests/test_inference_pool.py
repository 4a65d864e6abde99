import asyncio
import threading

import pytest

from tokenflow_ml.inference_pool import Busy, InferencePool


def test_refuses_work_beyond_workers_plus_queue_at_once():
    async def scenario():
        pool = InferencePool(workers=1, max_queue=1, max_wait_s=10)
        release = threading.Event()
        running = [asyncio.ensure_future(pool.run(release.wait)) for _ in range(2)]
        await asyncio.sleep(0.05)
        with pytest.raises(Busy, match="all 2 inference slots are taken"):
            await pool.run(lambda: None)
        release.set()
        await asyncio.gather(*running)
        assert pool.in_flight == 0
        assert await pool.run(lambda: "free again") == "free again"

    asyncio.run(scenario())


def test_drops_a_request_that_waited_past_the_deadline_instead_of_running_it():
    async def scenario():
        pool = InferencePool(workers=1, max_queue=1, max_wait_s=0.05)
        ran = []
        blocker = asyncio.ensure_future(pool.run(lambda: threading.Event().wait(0.2)))
        await asyncio.sleep(0.01)
        with pytest.raises(Busy, match="waited"):
            await pool.run(lambda: ran.append("stale"))
        await blocker
        assert ran == []

    asyncio.run(scenario())


def test_releases_the_slot_when_the_model_call_fails():
    async def scenario():
        pool = InferencePool(workers=1, max_queue=0, max_wait_s=10)

        def broken():
            raise RuntimeError("model exploded")

        with pytest.raises(RuntimeError):
            await pool.run(broken)
        assert pool.in_flight == 0

    asyncio.run(scenario())


def test_the_model_call_sees_the_callers_request_id():
    from tokenflow_ml.logs import request_id

    async def scenario():
        pool = InferencePool(workers=1, max_queue=0, max_wait_s=10)
        request_id.set("gw-ctx-1")
        try:
            return await pool.run(request_id.get)
        finally:
            pool.shutdown()

    assert asyncio.run(scenario()) == "gw-ctx-1"


def test_a_busy_refusal_says_why():
    async def scenario():
        pool = InferencePool(workers=1, max_queue=0, max_wait_s=10)
        release = threading.Event()
        running = asyncio.ensure_future(pool.run(release.wait))
        await asyncio.sleep(0.05)
        try:
            with pytest.raises(Busy) as refused:
                await pool.run(lambda: None)
        finally:
            release.set()
            await running
        return refused.value.reason

    assert asyncio.run(scenario()) == "queue_full"
