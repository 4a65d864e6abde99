"""`python -m tokenflow_ml`: serve the app with uvicorn on ML_HOST:ML_PORT."""

import uvicorn

from .settings import Settings


def main() -> None:
    settings = Settings()
    uvicorn.run(
        "tokenflow_ml.app:app",
        host=settings.ml_host,
        port=settings.ml_port,
        log_level=settings.log_level,
    )


if __name__ == "__main__":
    main()
