"""`npm run classifier:train`: a team's routes become a head; bad input leaves nothing behind."""

import json
import shutil

import pytest
from routing_fixtures import SUPPORT_ROUTES, write_routes

from tokenflow_ml.categories import CategorySpec
from tokenflow_ml.classification import EmbeddingClassifier
from tokenflow_ml.routing.head import DEFAULT_HEAD_PATH, HeadError, load_head, save_head
from tokenflow_ml.routing.routes import head_path_for_routes
from tokenflow_ml.routing.serving import create_classifier
from tokenflow_ml.routing.train import main
from tokenflow_ml.settings import Settings


@pytest.fixture(scope="module")
def trained_routes(tmp_path_factory, minilm_path):
    directory = tmp_path_factory.mktemp("routes")
    routes = write_routes(directory)
    assert main(["--routes", str(routes), "--model", minilm_path]) == 0
    return routes, head_path_for_routes(routes)


def support_classifier(minilm_path, head):
    categories = {
        r["name"]: CategorySpec(r["description"], tuple(r["examples"]))
        for r in SUPPORT_ROUTES["categories"]
    }
    return EmbeddingClassifier(minilm_path, categories=categories, head=head)


def test_training_on_a_routes_file_writes_a_small_versioned_head_beside_it(trained_routes):
    routes, head_path = trained_routes

    head = load_head(head_path)

    assert head_path == routes.with_name("support-routes.head.json")
    assert head.format == "tokenflow-routing-head/1"
    assert head.labels == ["billing", "shipping", "account"]
    assert head.encoder.dimensions == 384
    assert head.source.kind == "routes"
    assert head.training.validation == "cross-validation"
    assert head_path.stat().st_size < 100_000


def test_a_head_trained_on_routes_sends_new_prompts_to_them(trained_routes, minilm_path):
    _, head_path = trained_routes
    classifier = support_classifier(minilm_path, head_path)

    assert classifier.classify("I was charged 40 euros I did not expect", None, False)[0][0] == (
        "billing"
    )
    assert classifier.classify("the delivery guy never showed up", None, False)[0][0] == "shipping"
    assert classifier.classify("can't sign in, 2FA code rejected", None, False)[0][0] == "account"


def test_training_twice_on_the_same_data_gives_the_same_head(trained_routes, minilm_path, tmp_path):
    routes, head_path = trained_routes
    again = tmp_path / "again.json"

    assert main(["--routes", str(routes), "--model", minilm_path, "--out", str(again)]) == 0

    assert load_head(again).weights == load_head(head_path).weights


def test_a_head_edited_by_hand_is_refused_at_load(trained_routes, tmp_path):
    _, head_path = trained_routes
    edited = tmp_path / "edited.json"
    body = json.loads(head_path.read_text())
    body["bias"][0] += 1
    edited.write_text(json.dumps(body))

    with pytest.raises(HeadError, match="changed after training"):
        load_head(edited)


def test_a_head_made_for_another_encoder_is_refused_with_the_reason(
    trained_routes, tmp_path, minilm_path
):
    _, head_path = trained_routes
    head = load_head(head_path)
    other = head.model_copy(
        update={"encoder": head.encoder.model_copy(update={"fingerprint": [0.5] * 16})}
    )
    save_head(other, tmp_path / "other.head.json")

    with pytest.raises(HeadError, match="embeds differently"):
        support_classifier(minilm_path, tmp_path / "other.head.json")


def test_a_head_for_other_categories_is_refused(trained_routes, minilm_path):
    _, head_path = trained_routes

    with pytest.raises(HeadError, match="train the head again for them"):
        EmbeddingClassifier(minilm_path, head=head_path)  # the default categories


BAD_FILES = {
    "missing label": ('{"prompt": "hello"}\n', ":1: missing label"),
    "unknown category": (
        '{"prompt": "hi", "category": "general"}\n{"prompt": "x", "category": "poetry"}\n',
        ":2: unknown category 'poetry'",
    ),
    "empty file": ("\n\n", "empty file"),
    "wrong JSONL": ('{"prompt": "a", "category": "code"}\n[1, 2\n', ":2: not a JSON object"),
    "blank prompt": ('{"prompt": "   ", "category": "code"}\n', ":1: prompt: Value error"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_training_data_gets_one_message_naming_the_line_and_writes_nothing(
    case, tmp_path, capsys
):
    content, message = BAD_FILES[case]
    data = tmp_path / "data"
    data.mkdir()
    (data / "train.jsonl").write_text(content)
    (data / "validation.jsonl").write_text('{"prompt": "hi", "category": "general"}\n')
    out = tmp_path / "head.json"

    status = main(["--data-dir", str(data), "--out", str(out)])

    error = capsys.readouterr().err
    assert status == 2
    assert message in error
    assert str(data / "train.jsonl") in error
    assert not out.exists()
    assert list(tmp_path.glob(".head.json.*")) == []


@pytest.mark.parametrize(
    ("routes", "message"),
    [
        ({"categories": []}, "categories: List should have at least 2 items"),
        (
            {"categories": [{"name": "a", "description": "x", "examples": ["1"] * 5}] * 2},
            "a category is listed twice: a",
        ),
        (
            {"categories": [{"name": "a", "description": "x", "examples": ["only one"]}] * 2},
            "categories.0.examples: List should have at least 5 items",
        ),
    ],
)
def test_a_bad_routes_file_is_refused_with_the_field_and_no_head_is_written(
    routes, message, tmp_path, capsys
):
    path = write_routes(tmp_path, routes)

    status = main(["--routes", str(path)])

    assert status == 2
    assert message in capsys.readouterr().err
    assert not head_path_for_routes(path).exists()


def test_a_routes_file_edited_after_training_is_refused_and_the_message_names_the_command(
    trained_routes, minilm_path, tmp_path
):
    routes, head_path = trained_routes
    edited = tmp_path / routes.name
    body = json.loads(routes.read_text())
    body["categories"][0]["examples"].append("Is VAT included in the price?")
    edited.write_text(json.dumps(body))
    shutil.copy(head_path, head_path_for_routes(edited))
    settings = Settings(
        classifier_backend="embedding", classifier_model=minilm_path, routes_file=edited
    )

    with pytest.raises(HeadError, match="another version of its routes file") as refused:
        create_classifier(settings)

    assert f"npm run classifier:train -- --routes {edited}" in str(refused.value)


def test_a_routes_file_without_its_head_says_which_command_trains_it(minilm_path, tmp_path):
    routes = write_routes(tmp_path)
    settings = Settings(
        classifier_backend="embedding", classifier_model=minilm_path, routes_file=routes
    )

    with pytest.raises(
        HeadError, match=r"no routing head at .*support-routes\.head\.json"
    ) as missing:
        create_classifier(settings)

    assert f"npm run classifier:train -- --routes {routes}" in str(missing.value)


def test_a_routes_file_of_two_categories_trains_a_head_that_scores_both(minilm_path, tmp_path):
    two = {"categories": SUPPORT_ROUTES["categories"][:2]}
    routes = write_routes(tmp_path, two)

    assert main(["--routes", str(routes), "--model", minilm_path]) == 0

    classifier = EmbeddingClassifier(
        minilm_path,
        categories={
            r["name"]: CategorySpec(r["description"], tuple(r["examples"]))
            for r in two["categories"]
        },
        head=head_path_for_routes(routes),
    )
    labels = classifier.classify("the parcel never arrived", None, multi_label=False)
    assert [name for name, _ in labels] == ["shipping", "billing"]
    assert sum(score for _, score in labels) == pytest.approx(1, abs=1e-6)


def test_the_bundled_head_is_skipped_with_a_warning_where_the_encoder_runtime_differs(
    minilm_path, caplog
):
    settings = Settings(
        classifier_backend="embedding", classifier_model=minilm_path, classifier_runtime="torch"
    )

    classifier = create_classifier(settings)

    assert "routing by similarity only" in caplog.text
    assert classifier.classify("Write a haiku about rain.", None, False)[0][0] == "creative"


def test_a_configured_head_that_does_not_fit_the_runtime_is_refused(minilm_path):
    settings = Settings(
        classifier_backend="embedding",
        classifier_model=minilm_path,
        classifier_runtime="torch",
        routing_head=str(DEFAULT_HEAD_PATH),
    )

    with pytest.raises(HeadError, match="ML_CLASSIFIER_RUNTIME"):
        create_classifier(settings)


def test_worker_threads_classifying_at_once_get_the_answers_one_thread_gets(minilm_path):
    from concurrent.futures import ThreadPoolExecutor

    classifier = EmbeddingClassifier(minilm_path, head=DEFAULT_HEAD_PATH)
    prompts = [
        "Write a haiku about rain.",
        "Translate 'good night' into French. " * 60,  # long: clipped to its head and tail
        "def f(x): return x * 2  # why does this fail on strings?",
        "Book a table for four at 8pm and text Sam the time.",
    ] * 8
    alone = [classifier.classify(p, None, False)[0] for p in prompts]

    with ThreadPoolExecutor(max_workers=4) as pool:
        together = list(pool.map(lambda p: classifier.classify(p, None, False)[0], prompts))

    assert [name for name, _ in together] == [name for name, _ in alone]
    assert [score for _, score in together] == pytest.approx(
        [score for _, score in alone], abs=1e-5
    )
