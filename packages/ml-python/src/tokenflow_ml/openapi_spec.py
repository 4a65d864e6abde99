"""`python -m tokenflow_ml.openapi_spec`: write the service's OpenAPI to openapi.json.

The checked-in openapi.json is the contract the gateway's zod schemas are generated from
(`pnpm --filter @tokenflow/server gen:ml`); tests/test_openapi_spec.py fails when it drifts.
"""

import json
import sys
from pathlib import Path
from typing import Any

from .app import create_app
from .settings import PACKAGE_ROOT, Settings

SPEC_PATH = PACKAGE_ROOT / "openapi.json"
REGENERATE = "cd packages/ml-python && .venv/bin/python -m tokenflow_ml.openapi_spec"


def spec_settings() -> Settings:
    # Fixed settings, not the environment's: the spec must not depend on who builds it.
    # The generator is on so the /v1 routes are described; no model is loaded, since
    # models load in the app's lifespan, which never runs here.
    return Settings(
        _env_file=None,
        host="127.0.0.1",
        service_token=None,
        generator_enabled=True,
    )


def build_spec() -> dict[str, Any]:
    return create_app(spec_settings()).openapi()


def render(spec: dict[str, Any]) -> str:
    return json.dumps(spec, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> None:
    path = Path(argv[0]) if argv else SPEC_PATH
    path.write_text(render(build_spec()), encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
