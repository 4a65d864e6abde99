"""Starts the real service with uvicorn on a free loopback port for the tests."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def service_url() -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "ML_PORT": str(port), "ML_HOST": "127.0.0.1", "LOG_LEVEL": "warning"}
    process = subprocess.Popen([sys.executable, "-m", "tokenflow_ml"], env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    try:
        while True:
            try:
                httpx.get(f"{url}/healthz", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the ML service did not start") from None
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
