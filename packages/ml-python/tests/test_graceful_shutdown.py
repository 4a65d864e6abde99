"""SIGTERM (a deploy, a scale-down) finishes the requests in flight, refuses new ones, exits 0."""

import concurrent.futures
import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest
from tiny_models import sample_text, tiny_backends

# ~380,000 characters: the tiny LLMLingua-2 model needs a few seconds for it.
SLOW_TEXT = sample_text(60_000)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def start(tiny_models):
    """Starts the real service (ready to compress), with these extra ML_* settings."""
    processes: list[subprocess.Popen] = []

    def start(**settings: str) -> tuple[str, subprocess.Popen]:
        port = free_port()
        env = {
            **os.environ,
            "ML_PORT": str(port),
            "ML_LOG_LEVEL": "warning",
            "ML_GENERATOR_ENABLED": "false",
            **{
                f"ML_{key.upper()}": value
                for key, value in {**tiny_backends(tiny_models), **settings}.items()
            },
        }
        process = subprocess.Popen([sys.executable, "-m", "tokenflow_ml"], env=env)
        processes.append(process)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    return url, process
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError("the ML service did not get ready")

    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def slow_compress(url: str) -> tuple[httpx.Response | Exception, float]:
    """The response (or the error) and when it arrived."""
    try:
        response = httpx.post(f"{url}/compress", json={"text": SLOW_TEXT}, timeout=120)
    except httpx.HTTPError as error:
        return error, time.monotonic()
    return response, time.monotonic()


def wait_until_compressing(url: str, deadline_s: float = 30) -> None:
    """Until the request is on an inference thread: a fixed sleep races a slow machine,
    and a signal before the request has arrived tests nothing."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        scrape = httpx.get(f"{url}/metrics", timeout=5).text
        if "tokenflow_ml_inference_in_flight 1.0" in scrape:
            return
        time.sleep(0.02)
    raise AssertionError("the slow request never started running")


# A connection that reached the kernel's backlog just before the listening socket closed
# is reset rather than refused: the client sees a read error, and it was turned away too.
TURNED_AWAY = (httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError)


def refused_at(url: str, deadline_s: float = 5) -> float:
    """When a new connection was first turned away."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/healthz", timeout=1)
        except TURNED_AWAY:
            return time.monotonic()
        time.sleep(0.05)
    raise AssertionError("new connections were still accepted after SIGTERM")


def test_sigterm_lets_a_running_request_finish_refuses_new_ones_and_exits_0(start):
    url, process = start()

    with concurrent.futures.ThreadPoolExecutor(1) as thread:
        in_flight = thread.submit(slow_compress, url)
        wait_until_compressing(url)
        process.send_signal(signal.SIGTERM)
        refused = refused_at(url)
        response, answered = in_flight.result(timeout=120)

    assert isinstance(response, httpx.Response), f"the request in flight failed: {response!r}"
    assert response.status_code == 200
    assert response.json()["compressed_tokens"] > 0
    # It was still running when the service stopped taking new connections.
    assert answered > refused
    assert process.wait(timeout=60) == 0


def test_a_request_outliving_ml_shutdown_grace_s_is_cut_off(start):
    url, process = start(shutdown_grace_s="0.2")

    with concurrent.futures.ThreadPoolExecutor(1) as thread:
        in_flight = thread.submit(slow_compress, url)
        wait_until_compressing(url)
        process.send_signal(signal.SIGTERM)
        response, _ = in_flight.result(timeout=120)

    # The default (30 s) would have let it finish; 0.2 s cancels it: uvicorn answers 500.
    assert isinstance(response, httpx.Response) and response.status_code == 500
    assert process.wait(timeout=60) == 0
