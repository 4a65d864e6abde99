"""Dynamic batching: concurrent requests share a forward pass; a lone one never waits."""

import asyncio
import threading

import pytest

from tokenflow_ml.batching import Batcher
from tokenflow_ml.inference_pool import Busy


class Model:
    """Doubles numbers, a batch at a time; can be held mid-batch, and fails on "bad"."""

    def __init__(self) -> None:
        self.batches: list[list] = []
        self.release = threading.Event()
        self.release.set()

    def __call__(self, items: list) -> list:
        self.batches.append(list(items))
        self.release.wait()
        if "bad" in items:
            raise ValueError("bad input")
        return [item * 2 for item in items]


def batcher(model: Model, **options) -> Batcher:
    settings = {"max_batch": 32, "max_pending": 100, "max_wait_s": 10} | options
    return Batcher("test", model, **settings)


async def hold(model: Model, batching: Batcher) -> asyncio.Future:
    """Puts the model to work on a first request and keeps it there."""
    model.release.clear()
    first = asyncio.ensure_future(batching.submit(0))
    while not model.batches:
        await asyncio.sleep(0.005)
    return first


def test_a_lone_request_runs_at_once_as_a_batch_of_one():
    model = Model()

    async def scenario():
        return await batcher(model).submit(21)

    assert asyncio.run(scenario()) == 42
    assert model.batches == [[21]]


def test_requests_that_arrive_while_the_model_works_run_together_next():
    model = Model()

    async def scenario():
        batching = batcher(model)
        first = await hold(model, batching)
        waiting = [asyncio.ensure_future(batching.submit(n)) for n in (1, 2, 3, 4, 5)]
        await asyncio.sleep(0.02)
        assert batching.waiting == 5
        model.release.set()
        return await first, await asyncio.gather(*waiting)

    first, rest = asyncio.run(scenario())
    assert (first, rest) == (0, [2, 4, 6, 8, 10])
    assert model.batches == [[0], [1, 2, 3, 4, 5]]


def test_a_batch_takes_at_most_max_batch_requests():
    model = Model()

    async def scenario():
        batching = batcher(model, max_batch=4)
        first = await hold(model, batching)
        waiting = [asyncio.ensure_future(batching.submit(n)) for n in range(1, 11)]
        await asyncio.sleep(0.02)
        model.release.set()
        await asyncio.gather(first, *waiting)

    asyncio.run(scenario())
    assert [len(batch) for batch in model.batches] == [1, 4, 4, 2]


def test_refuses_at_once_past_max_pending():
    model = Model()

    async def scenario():
        batching = batcher(model, max_pending=2)
        first = await hold(model, batching)
        waiting = [asyncio.ensure_future(batching.submit(n)) for n in (1, 2)]
        await asyncio.sleep(0.01)
        with pytest.raises(Busy, match="all 2 test queue places are taken") as refused:
            await batching.submit(3)
        model.release.set()
        await asyncio.gather(first, *waiting)
        return refused.value.reason

    assert asyncio.run(scenario()) == "queue_full"
    assert all(3 not in batch for batch in model.batches)


def test_callers_that_left_give_their_queue_places_to_new_requests():
    model = Model()

    async def scenario():
        batching = batcher(model, max_pending=2)
        first = await hold(model, batching)
        gone = [asyncio.ensure_future(batching.submit(n)) for n in (1, 2)]
        await asyncio.sleep(0.01)
        for request in gone:
            request.cancel()
        await asyncio.sleep(0)
        taken = asyncio.ensure_future(batching.submit(3))
        model.release.set()
        await first
        return await taken

    assert asyncio.run(scenario()) == 6
    assert model.batches == [[0], [3]]


def test_a_request_whose_caller_left_is_dropped_before_it_costs_compute():
    model = Model()

    async def scenario():
        batching = batcher(model)
        first = await hold(model, batching)
        gone = asyncio.ensure_future(batching.submit(7))
        kept = asyncio.ensure_future(batching.submit(8))
        await asyncio.sleep(0.01)
        gone.cancel()
        model.release.set()
        await first
        return await kept

    assert asyncio.run(scenario()) == 16
    assert model.batches == [[0], [8]]


def test_a_request_that_waited_past_the_deadline_is_refused_not_run():
    model = Model()

    async def scenario():
        batching = batcher(model, max_wait_s=0.05)
        first = await hold(model, batching)
        stale = asyncio.ensure_future(batching.submit(9))
        await asyncio.sleep(0.1)
        model.release.set()
        await first
        with pytest.raises(Busy, match="waited") as refused:
            await stale
        return refused.value.reason

    assert asyncio.run(scenario()) == "queue_timeout"
    assert model.batches == [[0]]


def test_one_failing_request_does_not_fail_the_others_in_its_batch():
    model = Model()

    async def scenario():
        batching = batcher(model)
        first = await hold(model, batching)
        waiting = [asyncio.ensure_future(batching.submit(n)) for n in (1, "bad", 3)]
        await asyncio.sleep(0.01)
        model.release.set()
        await first
        return await asyncio.gather(*waiting, return_exceptions=True)

    one, bad, three = asyncio.run(scenario())
    assert (one, three) == (2, 6)
    assert isinstance(bad, ValueError)
    # The batch failed, so each request ran again alone.
    assert model.batches == [[0], [1, "bad", 3], [1], ["bad"], [3]]


def test_reports_each_batch_with_its_size_time_and_waits():
    model = Model()
    seen = []

    async def scenario():
        batching = Batcher(
            "test", model, max_batch=8, max_pending=8, max_wait_s=10, on_batch=seen.append
        )
        first = await hold(model, batching)
        waiting = [asyncio.ensure_future(batching.submit(n)) for n in (1, 2)]
        await asyncio.sleep(0.02)
        model.release.set()
        await asyncio.gather(first, *waiting)

    asyncio.run(scenario())
    assert [stats.size for stats in seen] == [1, 2]
    assert all(wait >= 0.01 for wait in seen[1].waits)


def test_a_model_that_answers_the_wrong_number_of_results_fails_each_request_without_a_hang():
    async def scenario():
        batching = Batcher("test", lambda items: [], max_batch=8, max_pending=8, max_wait_s=10)
        return await asyncio.wait_for(
            asyncio.gather(batching.submit(1), batching.submit(2), return_exceptions=True), 5
        )

    outcomes = asyncio.run(scenario())
    assert all(isinstance(o, RuntimeError) and "0 results" in str(o) for o in outcomes)


def test_a_failing_batch_report_does_not_hold_up_the_answers():
    def broken_report(_stats):
        raise RuntimeError("metrics exploded")

    async def scenario():
        batching = Batcher(
            "test", Model(), max_batch=8, max_pending=8, max_wait_s=10, on_batch=broken_report
        )
        return await asyncio.wait_for(batching.submit(4), 5), await batching.submit(5)

    assert asyncio.run(scenario()) == (8, 10)


def test_shutting_down_fails_what_waits_and_refuses_what_comes():
    model = Model()

    async def scenario():
        batching = batcher(model)
        first = await hold(model, batching)
        queued = asyncio.ensure_future(batching.submit(1))
        await asyncio.sleep(0.01)
        batching.shutdown()
        with pytest.raises(Busy, match="shutting down"):
            await asyncio.wait_for(queued, 5)
        with pytest.raises(Busy, match="shutting down"):
            await batching.submit(2)
        model.release.set()
        await asyncio.wait_for(first, 5)

    asyncio.run(scenario())


def test_the_queue_length_can_be_read_from_another_thread_while_it_changes():
    # /readyz and /metrics read it from worker threads.
    errors = []

    async def scenario():
        batching = batcher(Model(), max_pending=10_000)
        stop = threading.Event()

        def read():
            while not stop.is_set():
                try:
                    _ = batching.waiting, batching.running
                except Exception as error:
                    errors.append(error)

        reader = threading.Thread(target=read)
        reader.start()
        await asyncio.gather(*(batching.submit(n) for n in range(5000)))
        stop.set()
        reader.join()

    asyncio.run(scenario())
    assert errors == []
