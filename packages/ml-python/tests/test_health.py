import httpx


def test_healthz_reports_ok_with_version_and_uptime(service_url: str) -> None:
    response = httpx.get(f"{service_url}/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["version"] == "0.1.0"
    assert body["uptime_s"] >= 0


def test_unknown_route_is_a_json_404(service_url: str) -> None:
    response = httpx.get(f"{service_url}/nope")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}
