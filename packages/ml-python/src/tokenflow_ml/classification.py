"""Zero-shot prompt classification: an NLI model or sentence embeddings."""

import math
import threading
from collections import OrderedDict
from typing import Protocol

from .categories import DEFAULT_CATEGORIES


class Classifier(Protocol):
    backend: str
    model: str

    def classify(
        self, prompt: str, categories: list[str] | None, multi_label: bool
    ) -> list[tuple[str, float]]:
        """Every category with its score in [0, 1], best first."""
        ...


def _sorted(scores: dict[str, float]) -> list[tuple[str, float]]:
    return sorted(scores.items(), key=lambda item: item[1], reverse=True)


class NliClassifier:
    """Transformers' zero-shot pipeline: each category is a hypothesis the prompt may entail."""

    backend = "nli"
    hypothesis_template = "This request is about {}."

    def __init__(self, model: str, device: str = "cpu") -> None:
        from transformers import pipeline

        self.model = model
        self._pipe = pipeline("zero-shot-classification", model=model, device=device)

    def classify(
        self, prompt: str, categories: list[str] | None, multi_label: bool
    ) -> list[tuple[str, float]]:
        names = categories or list(DEFAULT_CATEGORIES)
        # A default category is stated by its description, the caller's own by its name
        # (and a default one by its name too if the caller also sent its description).
        taken = set(names)
        phrases = {}
        for name in names:
            spec = DEFAULT_CATEGORIES.get(name)
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


class EmbeddingClassifier:
    """Cosine similarity between the prompt and each category's description and examples.

    Similarities are turned into calibrated scores: a softmax with a temperature for
    single-label (scores sum to 1), a logistic curve per category for multi-label.
    """

    backend = "embedding"
    temperature = 0.05
    # Calibrated on tests/data/labelled_prompts.jsonl with all-MiniLM-L6-v2: the median
    # similarity to the right category is 0.28, the 90th percentile to a wrong one 0.19.
    multi_label_center = 0.23
    multi_label_scale = 0.025
    _cache_size = 1024

    def __init__(self, model: str, device: str = "cpu") -> None:
        from sentence_transformers import SentenceTransformer

        self.model = model
        self._encoder = SentenceTransformer(model, device=device)
        self._anchors = {
            name: self._encode([spec.description, *spec.examples])
            for name, spec in DEFAULT_CATEGORIES.items()
        }
        self._custom: OrderedDict[str, object] = OrderedDict()
        self._lock = threading.Lock()
        # The first call through a fresh model is several times slower: pay for it now.
        self.similarities("warm up", None)

    def _encode(self, texts: list[str]):
        return self._encoder.encode(texts, normalize_embeddings=True, convert_to_tensor=True)

    def _anchors_for(self, name: str):
        if name in self._anchors:
            return self._anchors[name]
        with self._lock:
            if name in self._custom:
                self._custom.move_to_end(name)
                return self._custom[name]
        vectors = self._encode([name])
        with self._lock:
            self._custom[name] = vectors
            if len(self._custom) > self._cache_size:
                self._custom.popitem(last=False)
        return vectors

    def similarities(self, prompt: str, categories: list[str] | None) -> dict[str, float]:
        names = categories or list(DEFAULT_CATEGORIES)
        query = self._encode([prompt])[0]
        return {name: self._score(self._anchors_for(name) @ query) for name in names}

    @staticmethod
    def _score(sims) -> float:
        # The mean of the closest few anchors is steadier than the single closest one
        # (measured on tests/data/labelled_prompts.jsonl: top-4 mean 82.5%, max 79%).
        top = sims.topk(min(4, sims.shape[0])).values
        return float(top.mean())

    def classify(
        self, prompt: str, categories: list[str] | None, multi_label: bool
    ) -> list[tuple[str, float]]:
        sims = self.similarities(prompt, categories)
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
