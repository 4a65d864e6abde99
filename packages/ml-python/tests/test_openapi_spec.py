"""The checked-in openapi.json is the contract the gateway's zod schemas are generated from."""

import threading

from tokenflow_ml.openapi_spec import REGENERATE, SPEC_PATH, build_spec, render


def test_checked_in_openapi_json_is_the_live_apps_spec():
    live = render(build_spec())

    checked_in = SPEC_PATH.read_text(encoding="utf-8")

    assert checked_in == live, (
        f"{SPEC_PATH.name} differs from the app's OpenAPI: run `{REGENERATE}`, "
        "then `pnpm --filter @tokenflow/server gen:ml`"
    )


def test_building_the_spec_loads_no_model():
    build_spec()

    # Models load on the "model-loader" thread, started only by the app's lifespan.
    assert "model-loader" not in {thread.name for thread in threading.enumerate()}
