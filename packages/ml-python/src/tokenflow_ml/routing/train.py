"""`npm run classifier:train [-- --routes FILE] [--out PATH]`: fits a routing head on CPU.

Default: the labelled prompts in data/routing (train.jsonl to fit, validation.jsonl
to choose the regularisation and the temperature); the test split is never read here.
With --routes, the routes file's
examples, with 5-fold cross-validation in place of a validation file.
"""

import argparse
import hashlib
import logging
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from scipy.sparse import csr_matrix

from ..categories import DEFAULT_CATEGORIES
from ..metrics import model_label
from ..settings import PACKAGE_ROOT, Settings
from .calibration import expected_calibration_error, fit_temperature
from .embedding_cache import cached_embeddings
from .encoder import load_encoder
from .features import LexicalFeatures, combine, pack
from .head import (
    DEFAULT_HEAD_PATH,
    EncoderIdentity,
    LexicalSpec,
    RoutingHead,
    TrainingReport,
    TrainingSource,
    fingerprint,
    save_head,
    softmax,
)
from .labelled import DataError, LabelledPrompt, read_labelled, user_path
from .routes import head_path_for_routes, load_routes

if TYPE_CHECKING:
    from sklearn.linear_model import LogisticRegression

    from .encoder import Encoder

DATA_DIR = PACKAGE_ROOT / "data" / "routing"
FOLDS = 5


@dataclass
class Examples:
    texts: list[str]
    labels: list[str]


def _fit_linear(x: csr_matrix, y: np.ndarray, c: float) -> "LogisticRegression":
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, max_iter=3000).fit(x, y)


def _logits(model: "LogisticRegression", x: csr_matrix) -> np.ndarray:
    """One logit a label, also for two labels, where scikit-learn gives one column."""
    scores = model.decision_function(x)
    return np.stack([np.zeros_like(scores), scores], axis=1) if scores.ndim == 1 else scores


def _matrices(model: "LogisticRegression") -> tuple[np.ndarray, np.ndarray]:
    """Weights and bias a label; with two labels the first is all zeros (its logit is 0)."""
    if model.coef_.shape[0] == 1:
        return (
            np.vstack([np.zeros_like(model.coef_), model.coef_]),
            np.concatenate([[0.0], model.intercept_]),
        )
    return model.coef_, model.intercept_


@dataclass(frozen=True)
class Candidate:
    """One way to fit the head; the held-out data chooses among them."""

    lexical: bool
    c: float

    @property
    def scale(self) -> float:
        # With n-grams beside it the embedding weighs less (chosen on the validation
        # split: 0.3 beat 0.5 and 1.0); alone it is used as it is.
        return EMBEDDING_SCALE_WITH_NGRAMS if self.lexical else 1.0


# C for each was chosen on the validation split (embedding: 2-8 alike; with n-grams:
# 32 and 64 alike, 16 lower); a team's small routes file often does better without
# n-grams, which cross-validation finds out.
CANDIDATES = (Candidate(lexical=False, c=4.0), Candidate(lexical=True, c=32.0))
EMBEDDING_SCALE_WITH_NGRAMS = 0.3


@dataclass
class Features:
    embeddings: np.ndarray
    ngrams: csr_matrix

    def for_candidate(self, candidate: Candidate) -> csr_matrix:
        return combine(self.embeddings, candidate.scale, self.ngrams if candidate.lexical else None)


def _held_out(
    candidate: Candidate, train: Features, y: np.ndarray, validation: Features | None
) -> tuple[np.ndarray, "LogisticRegression"]:
    """Held-out logits, and the model fitted on all of the training rows (the final one)."""
    train_x = train.for_candidate(candidate)
    if validation is not None:
        model = _fit_linear(train_x, y, candidate.c)
        return _logits(model, validation.for_candidate(candidate)), model
    from sklearn.model_selection import StratifiedKFold

    splits = min(FOLDS, int(np.bincount(y).min()))
    folds = StratifiedKFold(n_splits=splits, shuffle=True, random_state=0)
    out = np.zeros((len(y), int(y.max()) + 1))
    for fit_rows, held_rows in folds.split(train_x, y):
        fold = _fit_linear(train_x[fit_rows], y[fit_rows], candidate.c)
        out[held_rows] = _logits(fold, train_x[held_rows])
    return out, _fit_linear(train_x, y, candidate.c)


def fit_head(
    encoder: "Encoder",
    encoder_label: str,
    labels: list[str],
    train: Examples,
    validation: Examples | None,
    source: TrainingSource,
) -> RoutingHead:
    """Chooses features and C by held-out accuracy; fits the temperature on the same logits."""
    index = {label: i for i, label in enumerate(labels)}
    missing = [label for label in labels if label not in train.labels]
    if missing:
        raise DataError(f"no training examples for: {', '.join(missing)}")
    lexical = LexicalFeatures.fit(train.texts)
    train_x = Features(cached_embeddings(encoder, train.texts), lexical.transform(train.texts))
    y = np.array([index[label] for label in train.labels])
    held_y, held = y, None
    if validation is not None:
        held_y = np.array([index[label] for label in validation.labels])
        held = Features(
            cached_embeddings(encoder, validation.texts), lexical.transform(validation.texts)
        )
    results = {c: _held_out(c, train_x, y, held) for c in CANDIDATES}
    # Ties go to the earlier candidate: fewer features, stronger regularisation.
    best = max(CANDIDATES, key=lambda c: (results[c][0].argmax(1) == held_y).mean())
    held_logits, model = results[best]
    weights, bias = _matrices(model)
    temperature = fit_temperature(held_logits, held_y)
    before = softmax(held_logits)
    after = softmax(held_logits / temperature)
    correct = before.argmax(1) == held_y
    return RoutingHead(
        encoder=EncoderIdentity(
            label=encoder_label,
            dimensions=encoder.dimensions,
            fingerprint=fingerprint(encoder),
        ),
        labels=labels,
        embedding_scale=best.scale,
        lexical=LexicalSpec(vocabulary=lexical.vocabulary, idf=pack(lexical.idf))
        if best.lexical
        else None,
        weights=pack(weights),
        bias=[round(float(v), 6) for v in bias],
        temperature=temperature,
        source=source,
        training=TrainingReport(
            features="embedding+ngrams" if best.lexical else "embedding",
            regularisation_c=best.c,
            validation="split" if validation is not None else "cross-validation",
            validation_accuracy=round(float(correct.mean()), 4),
            validation_ece_before=round(expected_calibration_error(before.max(1), correct), 4),
            validation_ece_after=round(expected_calibration_error(after.max(1), correct), 4),
        ),
    )


def data_digest(paths: list[Path]) -> str:
    """What a default head records of its data, so a test can tell it is out of date."""
    hash_ = hashlib.sha256()
    for path in paths:
        hash_.update(path.read_bytes())
    return hash_.hexdigest()


def _examples(rows: list[LabelledPrompt]) -> Examples:
    return Examples([row.prompt for row in rows], [row.category for row in rows])


def default_training(data_dir: Path) -> tuple[list[str], Examples, Examples, TrainingSource]:
    # The built-in examples in categories.py stay out: they are the similarity path's
    # anchors, and classic prompts like them turn up in independently written test sets.
    labels = list(DEFAULT_CATEGORIES)
    train_path, validation_path = data_dir / "train.jsonl", data_dir / "validation.jsonl"
    train_rows = read_labelled(train_path, labels)
    validation_rows = read_labelled(validation_path, labels)
    source = TrainingSource(
        kind="default",
        files=["data/routing/train.jsonl", "data/routing/validation.jsonl"],
        sha256=data_digest([train_path, validation_path]),
        examples=len(train_rows),
    )
    return labels, _examples(train_rows), _examples(validation_rows), source


def routes_training(path: Path) -> tuple[list[str], Examples, TrainingSource]:
    routes = load_routes(path)
    pairs = [(example, route.name) for route in routes.categories for example in route.examples]
    source = TrainingSource(
        kind="routes", files=[path.name], sha256=routes.sha256, examples=len(pairs)
    )
    return routes.names(), Examples([t for t, _ in pairs], [n for _, n in pairs]), source


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="npm run classifier:train --", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--routes", type=Path, help="a routes file: train a head for its categories"
    )
    parser.add_argument("--out", type=Path, help="where to write the head")
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR, help=argparse.SUPPRESS)
    parser.add_argument(
        "--model", help="the sentence encoder (default: the classifier model setting)"
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    logging.getLogger("sentence_transformers").setLevel(logging.WARNING)
    started = time.perf_counter()
    try:
        if args.routes:
            routes = user_path(args.routes)
            labels, train, source = routes_training(routes)
            validation = None
            out = user_path(args.out) if args.out else head_path_for_routes(routes)
        else:
            labels, train, validation, source = default_training(args.data_dir)
            out = user_path(args.out) if args.out else DEFAULT_HEAD_PATH
        settings = Settings(classifier_backend="embedding")
        model = args.model or settings.classifier_model_id()
        encoder = load_encoder(model, runtime=settings.classifier_runtime)
        head = fit_head(encoder, model_label(model), labels, train, validation, source)
    except DataError as error:
        print(f"classifier:train: {error}", file=sys.stderr)
        return 2
    save_head(head, out)
    report = head.training
    print(
        f"trained a routing head for {', '.join(labels)} on {source.examples} examples "
        f"in {time.perf_counter() - started:.1f} s\n"
        f"  features {report.features}, C={report.regularisation_c}, "
        f"temperature={head.temperature}\n"
        f"  {report.validation} accuracy {report.validation_accuracy:.1%}, "
        f"ECE {report.validation_ece_before:.3f} -> {report.validation_ece_after:.3f} "
        "after calibration\n"
        f"  wrote {out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
