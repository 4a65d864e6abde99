"""ML_SERVICE_TOKEN: the gateway's shared secret, checked on every route but the health probes.

In-process (no models load: the lifespan does not run), since auth is decided before any
route; test_fuzz_openapi.py covers every operation with the models loaded.
"""

import logging

import pytest
from fastapi.testclient import TestClient

from tokenflow_ml.app import create_app
from tokenflow_ml.settings import Settings

TOKEN = "s3cret-token-for-tests-0123456789"


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app(Settings(service_token=TOKEN, generator_enabled=True)))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


PROTECTED = [
    ("POST", "/classify"),
    ("POST", "/compress"),
    ("GET", "/metrics"),
    ("GET", "/docs"),
    ("GET", "/openapi.json"),
    ("GET", "/no-such-route"),
    ("GET", "/v1/models"),
    ("POST", "/v1/chat/completions"),
]


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_a_request_without_a_token_gets_401_with_a_bearer_challenge(client, method, path):
    response = client.request(method, path, json={"prompt": "hi"})

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_a_wrong_token_gets_401_and_is_not_echoed(client, method, path):
    # A near miss: the right token with one character more.
    response = client.request(method, path, headers=bearer(TOKEN + "x"), json={"prompt": "hi"})

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert TOKEN not in response.text
    assert TOKEN not in str(response.headers)


def test_the_service_error_shape_says_what_to_send(client):
    missing = client.post("/classify", json={"prompt": "hi"})
    wrong = client.post("/classify", headers=bearer("not-the-token-at-all"), json={"prompt": "hi"})

    assert missing.json() == {
        "detail": "missing bearer token: send 'Authorization: Bearer <ML_SERVICE_TOKEN>'"
    }
    assert wrong.json() == {"detail": "invalid bearer token"}


def test_the_openai_routes_answer_401_in_openais_error_shape(client):
    response = client.get("/v1/models", headers=bearer("not-the-token-at-all"))

    assert response.json() == {
        "error": {
            "message": "invalid bearer token",
            "type": "invalid_request_error",
            "code": "invalid_api_key",
        }
    }


@pytest.mark.parametrize("header", ["Basic " + TOKEN, TOKEN, "Bearer", f"Bearer  {TOKEN}x"])
def test_a_malformed_authorization_header_is_refused(client, header):
    response = client.get("/metrics", headers={"Authorization": header})

    assert response.status_code == 401


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
def test_the_right_token_is_let_through_whatever_the_schemes_case(client, scheme):
    metrics = client.get("/metrics", headers={"Authorization": f"{scheme} {TOKEN}"})

    assert metrics.status_code == 200


def test_the_right_token_reaches_every_kind_of_route(client):
    models = client.get("/v1/models", headers=bearer(TOKEN))
    spec = client.get("/openapi.json", headers=bearer(TOKEN))
    # No lifespan here, so the classifier is "still loading": past auth, refused by the route.
    classify = client.post("/classify", headers=bearer(TOKEN), json={"prompt": "hi"})

    assert models.status_code == 200
    assert spec.status_code == 200 and "/classify" in spec.json()["paths"]
    assert classify.status_code == 503
    assert classify.json()["detail"] == "the classifier model is still loading"


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_health_probes_need_no_token(client, path):
    response = client.get(path)

    assert response.status_code in {200, 503}  # readyz: 503 while models load
    assert "www-authenticate" not in response.headers


def test_only_get_is_open_on_the_health_probes(client):
    response = client.post("/healthz")

    assert response.status_code == 401


def test_an_oversized_body_without_a_token_gets_401_not_413(client):
    response = client.post("/compress", content=b"x" * (5 * 1024 * 1024))

    assert response.status_code == 401


def test_the_token_never_appears_in_the_logs(caplog):
    caplog.set_level(logging.DEBUG)
    client = TestClient(create_app(Settings(service_token=TOKEN, log_level="debug")))

    client.get("/metrics", headers=bearer(TOKEN + "x"))
    client.get("/metrics", headers=bearer(TOKEN))
    client.get("/metrics", headers=bearer(TOKEN[:-1]))

    assert "refused GET /metrics: invalid bearer token" in caplog.text
    assert TOKEN[:-1] not in caplog.text  # covers the token and both near misses


def test_settings_never_show_the_token():
    settings = Settings(service_token=TOKEN)

    assert TOKEN not in repr(settings)
    assert TOKEN not in str(settings.model_dump())
    assert TOKEN not in settings.model_dump_json()


def test_without_a_token_every_route_stays_open():
    client = TestClient(create_app(Settings(service_token=None)))

    assert client.get("/metrics").status_code == 200
    assert client.get("/openapi.json").status_code == 200
