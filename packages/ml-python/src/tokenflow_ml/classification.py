"""Prompt classification: an NLI model, or sentence embeddings with a trained head."""

import logging
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from .categories import DEFAULT_CATEGORIES, CategorySpec
from .routing.encoder import load_encoder
from .routing.head import (
    DEFAULT_RETRAIN,
    HeadError,
    HeadScorer,
    check_head,
    fingerprint,
    load_head,
    softmax,
)

log = logging.getLogger("tokenflow_ml.models")

# Similarity needs a few anchors a category; a routes file may hold thousands.
MAX_ANCHORS = 16


Scores = list[tuple[str, float]]


@dataclass(frozen=True)
class ClassifyCall:
    prompt: str
    categories: list[str] | None = None
    multi_label: bool = False
    # Only the calls that ask get the prompt's vector back: over Ray every answer is
    # pickled, and most callers want the scores alone.
    embedding: bool = False


@dataclass(frozen=True)
class Classification:
    scores: Scores
    # The unit-length query vector the scores came from; None unless the call asked
    # and the backend embeds the prompt (NLI does not).
    embedding: np.ndarray | None = None


class Classifier(Protocol):
    backend: str
    model: str

    def classify(self, prompt: str, categories: list[str] | None, multi_label: bool) -> Scores:
        """Every category with its score in [0, 1], best first."""
        ...

    def classify_batch(self, calls: list[ClassifyCall]) -> list[Classification]:
        """classify() for each call, in order, sharing what can be shared (one encoder pass);
        with the prompt's embedding where the call asks and the backend has one."""
        ...


def _sorted(scores: dict[str, float]) -> list[tuple[str, float]]:
    return sorted(scores.items(), key=lambda item: item[1], reverse=True)


class NliClassifier:
    """Transformers' zero-shot pipeline: each category is a hypothesis the prompt may entail."""

    backend = "nli"
    hypothesis_template = "This request is about {}."

    def __init__(
        self, model: str, device: str = "cpu", *, categories: dict[str, CategorySpec] | None = None
    ) -> None:
        from transformers import pipeline

        self.model = model
        self.categories = categories or DEFAULT_CATEGORIES
        self._pipe = pipeline("zero-shot-classification", model=model, device=device)

    def classify(
        self, prompt: str, categories: list[str] | None, multi_label: bool
    ) -> list[tuple[str, float]]:
        names = categories or list(self.categories)
        # A served category is stated by its description, the caller's own by its name
        # (and a default one by its name too if the caller also sent its description).
        taken = set(names)
        phrases = {}
        for name in names:
            spec = self.categories.get(name)
            phrase = spec.description if spec and spec.description not in taken else name
            phrases[phrase] = name
        result = self._pipe(
            prompt,
            candidate_labels=list(phrases),
            hypothesis_template=self.hypothesis_template,
            multi_label=multi_label,
        )
        scores = dict(zip(result["labels"], result["scores"], strict=True))
        return _sorted({phrases[phrase]: float(score) for phrase, score in scores.items()})

    def classify_batch(self, calls: list[ClassifyCall]) -> list[Classification]:
        # Each prompt is already one batch of (prompt, hypothesis) pairs, one per category.
        return [Classification(self.classify(c.prompt, c.categories, c.multi_label)) for c in calls]


class EmbeddingClassifier:
    """Sentence embeddings of the prompt, scored by a trained head or by similarity.

    Over the categories the head was trained on (the served set, or any subset of
    it) a calibrated linear head decides: its confidence is a probability. Any
    other category, and multi-label requests, fall back to zero-shot similarity
    between the prompt and each category's description and examples (or its
    name): a softmax with a temperature for single-label, a logistic curve per
    category for multi-label.
    """

    backend = "embedding"
    temperature = 0.05
    # Calibrated on tests/data/labelled_prompts.jsonl with all-MiniLM-L6-v2: the median
    # similarity to the right category is 0.28, the 90th percentile to a wrong one 0.19.
    multi_label_center = 0.23
    multi_label_scale = 0.025
    _cache_size = 1024

    def __init__(
        self,
        model: str,
        device: str = "cpu",
        *,
        categories: dict[str, CategorySpec] | None = None,
        head: Path | None = None,
        runtime: str = "onnx-int8",
        threads: int | None = None,
        head_source_sha256: str | None = None,
        head_retrain: str = DEFAULT_RETRAIN,
        head_optional: bool = False,
    ) -> None:
        self.model = model
        self.categories = categories or DEFAULT_CATEGORIES
        self._encoder = load_encoder(model, device, runtime, threads)
        self._anchors = {
            name: self._encoder.encode([spec.description, *spec.examples[:MAX_ANCHORS]])
            for name, spec in self.categories.items()
        }
        self._head: HeadScorer | None = None
        if head is not None:
            try:
                self._head = self._load_head(head, head_source_sha256, head_retrain)
            except HeadError as error:
                # The bundled head fits the bundled encoder on the CPU runtime it was trained
                # on; another device or runtime still classifies, by similarity, and says so.
                if not head_optional:
                    raise
                log.warning("routing by similarity only: %s", error)
        self._custom: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        # The first call through a fresh model is several times slower: pay for it now.
        self.classify("warm up", None, multi_label=False)

    def _load_head(self, path: Path, source_sha256: str | None, retrain: str) -> HeadScorer:
        head = load_head(path, retrain)
        check_head(
            head,
            path=path,
            dimensions=self._encoder.dimensions,
            probe=fingerprint(self._encoder),
            labels=list(self.categories),
            source_sha256=source_sha256,
            retrain=retrain,
        )
        return HeadScorer(head)

    def _anchors_for(self, name: str) -> np.ndarray:
        if name in self._anchors:
            return self._anchors[name]
        with self._lock:
            if name in self._custom:
                self._custom.move_to_end(name)
                return self._custom[name]
        vectors = self._encoder.encode([name])
        with self._lock:
            self._custom[name] = vectors
            if len(self._custom) > self._cache_size:
                self._custom.popitem(last=False)
        return vectors

    def _similarities(self, query: np.ndarray, names: list[str]) -> dict[str, float]:
        return {name: self._score(self._anchors_for(name) @ query) for name in names}

    @staticmethod
    def _score(sims: np.ndarray) -> float:
        # The mean of the closest few anchors is steadier than the single closest one
        # (measured on tests/data/labelled_prompts.jsonl: top-4 mean 82.5%, max 79%).
        top = np.sort(sims)[-4:]
        return float(top.mean())

    def classify(self, prompt: str, categories: list[str] | None, multi_label: bool) -> Scores:
        return self.classify_batch([ClassifyCall(prompt, categories, multi_label)])[0].scores

    def classify_batch(self, calls: list[ClassifyCall]) -> list[Classification]:
        queries = self._encoder.encode([call.prompt for call in calls])
        return [
            Classification(
                self._scores(query, call.prompt, call.categories, call.multi_label),
                # A clipped prompt's vector stands for its start and end only: two prompts
                # differing in the middle would look the same to the response cache.
                self._unit(query)
                if call.embedding and self._encoder.embeds_whole(call.prompt)
                else None,
            )
            for query, call in zip(queries, calls, strict=True)
        ]

    @staticmethod
    def _unit(query: np.ndarray) -> np.ndarray:
        # Both encoders normalise already; the Encoder protocol does not promise it, and a
        # cache comparing by dot product needs unit vectors.
        return query / max(float(np.linalg.norm(query)), 1e-12)

    def _scores(
        self, query: np.ndarray, prompt: str, categories: list[str] | None, multi_label: bool
    ) -> Scores:
        names = categories or list(self.categories)
        head = self._head
        if head is not None and not multi_label and all(name in head.index for name in names):
            logits = head.logits(query, prompt)[[head.index[name] for name in names]]
            probs = softmax(logits / head.temperature)
            return _sorted({name: float(p) for name, p in zip(names, probs, strict=True)})
        sims = self._similarities(query, names)
        if multi_label:
            return _sorted(
                {
                    name: 1
                    / (1 + math.exp(-(sim - self.multi_label_center) / self.multi_label_scale))
                    for name, sim in sims.items()
                }
            )
        top = max(sims.values())
        weights = {name: math.exp((sim - top) / self.temperature) for name, sim in sims.items()}
        total = sum(weights.values())
        return _sorted({name: weight / total for name, weight in weights.items()})
