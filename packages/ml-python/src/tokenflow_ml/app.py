"""HTTP routes of the ML service. Model code lives in its own modules."""

import time

from fastapi import FastAPI
from pydantic import BaseModel

from . import __version__


class Health(BaseModel):
    status: str
    version: str
    uptime_s: float


def create_app() -> FastAPI:
    app = FastAPI(title="TokenFlow ML service", version=__version__)
    started = time.monotonic()

    @app.get("/healthz")
    def healthz() -> Health:
        return Health(status="ok", version=__version__, uptime_s=time.monotonic() - started)

    return app


app = create_app()
