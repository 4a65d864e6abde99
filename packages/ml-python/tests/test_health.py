import httpx


def test_healthz_answers_at_once_while_models_still_load(start_service, minilm_path, tiny_models):
    service = start_service(
        classifier_backend="embedding",
        classifier_model=minilm_path,
        compressor_backend="llmlingua",
        compressor_model=tiny_models["causal"],
    )

    health = httpx.get(f"{service.url}/healthz")
    first_readiness = httpx.get(f"{service.url}/readyz")

    assert health.status_code == 200
    assert health.json()["status"] == "ok"
    # Importing torch and sentence-transformers alone takes seconds, so the
    # first readiness answer comes while the models are loading.
    assert first_readiness.status_code == 503
    statuses = {name: m["status"] for name, m in first_readiness.json()["models"].items()}
    assert "loading" in statuses.values()

    final = service.wait_ready()
    assert final["ready"] is True
    assert final["models"]["classifier"] == {
        "status": "ready",
        "backend": "embedding",
        "model": minilm_path,
        "load_ms": final["models"]["classifier"]["load_ms"],
        "error": None,
    }
    assert final["models"]["compressor"]["backend"] == "llmlingua"


def test_a_model_that_cannot_load_is_reported_not_crashed_on(start_service, tmp_path):
    missing = str(tmp_path / "no-such-model")
    service = start_service(
        classifier_backend="nli",
        classifier_model=missing,
        compressor_backend="llmlingua2",
        compressor_model=missing,
    )

    readiness = service.wait_ready()
    classify = httpx.post(f"{service.url}/classify", json={"prompt": "hello"})

    assert readiness["ready"] is False
    assert readiness["models"]["classifier"]["status"] == "failed"
    assert missing in readiness["models"]["classifier"]["error"]
    assert classify.status_code == 503
    assert classify.json()["detail"].startswith("the classifier model failed to load:")
    assert "retry-after" not in classify.headers
    assert service.process.poll() is None  # still serving


def test_unknown_route_is_a_json_404(tiny_service):
    response = httpx.get(f"{tiny_service.url}/nope")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


def test_openapi_documents_every_endpoint(tiny_service):
    spec = httpx.get(f"{tiny_service.url}/openapi.json").json()

    assert {"/healthz", "/readyz", "/classify", "/compress"} <= set(spec["paths"])
    assert "CompressRequest" in spec["components"]["schemas"]
    ratio = spec["components"]["schemas"]["CompressRequest"]["properties"]["ratio"]
    assert ratio["exclusiveMinimum"] == 0 and ratio["maximum"] == 1
