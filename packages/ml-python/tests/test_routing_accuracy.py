"""The default classifier on the held-out test split, which nothing was tuned on.

data/routing/test.jsonl was written by different authors than the training and
validation splits, from the same labelling guide, and is read only here.
"""

import time
from collections import Counter

import pytest

from tokenflow_ml.classification import EmbeddingClassifier
from tokenflow_ml.routing.head import DEFAULT_HEAD_PATH, load_head
from tokenflow_ml.routing.labelled import read_labelled
from tokenflow_ml.routing.report import Prediction, build_report
from tokenflow_ml.routing.train import DATA_DIR, data_digest

CATEGORIES = ["reasoning", "code", "function-calling", "text-to-text", "creative", "general"]
# The lower end of the 95% interval measured when the head was trained (see README):
# a retrained head below it is worse beyond what 300 prompts can tell apart from noise.
ACCURACY_FLOOR = 0.92
ECE_CEILING = 0.08


@pytest.fixture(scope="module")
def report(minilm_path):
    rows = read_labelled(DATA_DIR / "test.jsonl", CATEGORIES)
    classifier = EmbeddingClassifier(minilm_path, head=DEFAULT_HEAD_PATH)
    predictions = []
    for row in rows:
        started = time.perf_counter()
        top, confidence = classifier.classify(row.prompt, None, multi_label=False)[0]
        predictions.append(Prediction(top, confidence, (time.perf_counter() - started) * 1000))
    return build_report(rows, predictions)


def test_the_default_head_is_trained_on_the_data_in_the_repository():
    head = load_head(DEFAULT_HEAD_PATH)

    assert head.source.sha256 == data_digest(
        [DATA_DIR / "train.jsonl", DATA_DIR / "validation.jsonl"]
    )


def test_the_splits_share_no_prompt_and_hold_150_or_more_per_category_with_three_languages():
    splits = {
        name: read_labelled(DATA_DIR / f"{name}.jsonl", CATEGORIES)
        for name in ("train", "validation", "test")
    }
    texts = {name: {row.prompt.strip().lower() for row in rows} for name, rows in splits.items()}

    assert not texts["train"] & texts["test"]
    assert not texts["validation"] & texts["test"]
    assert not texts["train"] & texts["validation"]
    every = [row for rows in splits.values() for row in rows]
    per_category = Counter(row.category for row in every)
    assert min(per_category.values()) >= 150
    for category in CATEGORIES:
        languages = Counter(row.language for row in every if row.category == category)
        assert all(languages[lang] >= 10 for lang in ("de", "es", "fr")), (category, languages)


def test_the_default_classifier_is_right_on_the_test_split_above_the_floor(report, capsys):
    with capsys.disabled():
        print(f"\nrouting test split ({report.total} prompts)\n{report.format()}")
    assert report.accuracy >= ACCURACY_FLOOR
    assert min(report.recall(label) for label in CATEGORIES) >= 0.6


def test_its_confidence_is_calibrated_on_the_test_split(report):
    assert report.ece <= ECE_CEILING


def test_it_is_no_worse_than_chance_in_any_language(report):
    for language, (right, total) in report.by_language.items():
        assert right / total > 0.5, language
