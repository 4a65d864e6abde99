"""The served classifier: the trained default head, a team's routes, and routing:eval against it."""

import json

import httpx
import pytest
from routing_fixtures import write_routes

from tokenflow_ml.routing.evaluate import main as evaluate
from tokenflow_ml.routing.train import main as train


@pytest.fixture(scope="module")
def default_service(embedding_service, tmp_path_factory):
    log = tmp_path_factory.mktemp("logs") / "ml.log"
    service = embedding_service(log_path=log, log_level="info")
    assert service.wait_ready()["ready"]
    service.log = log
    yield service
    service.stop()


@pytest.fixture(scope="module")
def routes_service(embedding_service, minilm_path, tmp_path_factory):
    routes = write_routes(tmp_path_factory.mktemp("routes"))
    assert train(["--routes", str(routes), "--model", minilm_path]) == 0
    service = embedding_service(routes_file=str(routes))
    assert service.wait_ready()["ready"]
    yield service
    service.stop()


def classify(service, prompt, categories=None):
    body = {"prompt": prompt} | ({"possible_categories": categories} if categories else {})
    response = httpx.post(f"{service.url}/classify", json=body, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def test_the_default_head_scores_the_six_default_categories_as_probabilities(default_service):
    result = classify(default_service, "Write a Rust function that parses an ISO 8601 date.")

    assert result["top_category"] == "code"
    assert {label["label"] for label in result["labels"]} == {
        "reasoning",
        "code",
        "function-calling",
        "text-to-text",
        "creative",
        "general",
    }
    assert sum(label["score"] for label in result["labels"]) == pytest.approx(1, abs=1e-5)


def test_a_subset_of_the_default_categories_is_scored_by_the_head_over_that_subset(
    default_service,
):
    result = classify(
        default_service, "Translate 'see you tomorrow' into Italian.", ["text-to-text", "code"]
    )

    assert [label["label"] for label in result["labels"]] == ["text-to-text", "code"]
    assert sum(label["score"] for label in result["labels"]) == pytest.approx(1, abs=1e-5)


def test_categories_the_head_never_saw_are_classified_zero_shot(default_service):
    result = classify(
        default_service,
        "Which running shoes are best for a marathon on asphalt?",
        ["sports", "cooking", "finance"],
    )

    assert result["top_category"] == "sports"


def test_classifying_writes_only_json_log_lines_no_progress_bars(default_service):
    classify(default_service, "hello there")
    classify(default_service, "Summarise this: the meeting moved to Friday.")

    lines = [line for line in default_service.log.read_text().splitlines() if line.strip()]
    assert not [line for line in lines if "Batches" in line or "it/s]" in line]
    for line in lines:
        json.loads(line)
    assert any(json.loads(line)["message"] == "classification done" for line in lines)


def test_a_routes_file_replaces_the_default_categories(routes_service):
    result = classify(routes_service, "my card got charged but the order shows unpaid")

    assert result["top_category"] == "billing"
    assert {label["label"] for label in result["labels"]} == {"billing", "shipping", "account"}


def test_a_routes_file_without_a_trained_head_fails_to_load_and_says_how_to_train(
    embedding_service, tmp_path
):
    service = embedding_service(routes_file=str(write_routes(tmp_path)))

    status = service.wait_ready()["models"]["classifier"]
    service.stop()

    assert status["status"] == "failed"
    assert "npm run classifier:train" in status["error"]


def test_routing_eval_prints_accuracy_per_category_and_the_confusion_matrix(
    routes_service, tmp_path, capsys
):
    labelled = tmp_path / "support.jsonl"
    rows = [
        ("I need a copy of last month's receipt", "billing"),
        ("why did the price of my plan go up", "billing"),
        ("the parcel says delivered but nothing is here", "shipping"),
        ("can you ship to Norway", "shipping"),
        ("reset my password please", "account"),
        ("how do I enable 2-step login", "account"),
    ]
    labelled.write_text("".join(json.dumps({"prompt": p, "category": c}) + "\n" for p, c in rows))

    status = evaluate([str(labelled), "--ml", routes_service.url])

    out = capsys.readouterr().out
    assert status == 0
    assert "6 prompts against" in out
    assert "accuracy " in out and "95% interval" in out
    assert "billing" in out and "precision" in out and "recall" in out
    assert "confusion (rows: labelled, columns: predicted)" in out
    assert "latency p50" in out


def test_routing_eval_names_the_bad_line_of_its_input(tmp_path, capsys):
    labelled = tmp_path / "bad.jsonl"
    labelled.write_text('{"prompt": "fine", "category": "code"}\n{"prompt": "no label"}\n')

    status = evaluate([str(labelled), "--ml", "http://127.0.0.1:9"])

    assert status == 2
    assert f"{labelled}:2: missing label" in capsys.readouterr().err


def test_routing_eval_says_when_the_service_is_not_running(tmp_path, capsys):
    labelled = tmp_path / "ok.jsonl"
    labelled.write_text('{"prompt": "fine", "category": "code"}\n')

    status = evaluate([str(labelled), "--url", "http://127.0.0.1:9"])

    assert status == 1
    assert "is the stack running (npm start)?" in capsys.readouterr().err
