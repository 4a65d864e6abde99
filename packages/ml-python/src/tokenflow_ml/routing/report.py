"""Accuracy, its 95% interval, per-category precision/recall, per-language and per-kind
accuracy, the confusion matrix, calibration and latency of a labelled run."""

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import numpy as np

from .calibration import expected_calibration_error, reliability
from .labelled import LabelledPrompt


@dataclass
class Prediction:
    category: str
    confidence: float
    latency_ms: float


def wilson_interval(successes: int, total: int, z: float = 1.96) -> tuple[float, float]:
    """The 95% interval of a proportion; honest near 0 and 1, unlike the normal one."""
    if total == 0:
        return 0.0, 0.0
    p = successes / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass
class Report:
    total: int
    correct: int
    labels: list[str]
    confusion: dict[str, Counter[str]] = field(default_factory=dict)
    by_language: dict[str, tuple[int, int]] = field(default_factory=dict)
    by_kind: dict[str, tuple[int, int]] = field(default_factory=dict)
    ece: float = 0.0
    bins: list[dict[str, float]] = field(default_factory=list)
    latency_p50_ms: float = 0.0
    latency_p95_ms: float = 0.0

    @property
    def accuracy(self) -> float:
        return self.correct / self.total

    @property
    def interval(self) -> tuple[float, float]:
        return wilson_interval(self.correct, self.total)

    def recall(self, label: str) -> float:
        row = self.confusion.get(label, Counter())
        return row[label] / sum(row.values()) if row else 0.0

    def precision(self, label: str) -> float:
        predicted = sum(row[label] for row in self.confusion.values())
        return self.confusion.get(label, Counter())[label] / predicted if predicted else 0.0

    def format(self) -> str:
        low, high = self.interval
        lines = [
            f"accuracy {self.accuracy:.1%} ({self.correct}/{self.total}), "
            f"95% interval {low:.1%} to {high:.1%}",
            f"expected calibration error {self.ece:.3f}",
            f"latency p50 {self.latency_p50_ms:.1f} ms, p95 {self.latency_p95_ms:.1f} ms",
            "",
            f"{'category':<18} {'precision':>9} {'recall':>7} {'n':>5}",
        ]
        for label in self.labels:
            n = sum(self.confusion.get(label, Counter()).values())
            lines.append(
                f"{label:<18} {self.precision(label):>9.1%} {self.recall(label):>7.1%} {n:>5}"
            )
        for title, groups in (("language", self.by_language), ("kind", self.by_kind)):
            lines += ["", f"{title:<18} {'accuracy':>9} {'n':>5}"]
            for name, (right, n) in sorted(groups.items()):
                lines.append(f"{name:<18} {right / n:>9.1%} {n:>5}")
        predicted = sorted({p for row in self.confusion.values() for p in row} | set(self.labels))
        width = max(len(p) for p in predicted) + 1
        lines += ["", "confusion (rows: labelled, columns: predicted)"]
        lines.append(" " * width + "".join(f"{p[:6]:>7}" for p in predicted))
        for label in self.labels:
            row = self.confusion.get(label, Counter())
            lines.append(f"{label:<{width}}" + "".join(f"{row[p]:>7}" for p in predicted))
        lines += ["", "reliability (confidence bin: mean confidence -> accuracy, n)"]
        for b in self.bins:
            lines.append(
                f"  {b['low']:.1f}-{b['high']:.1f}: {b['confidence']:.2f} -> "
                f"{b['accuracy']:.2f} ({b['count']})"
            )
        return "\n".join(lines)


def build_report(rows: list[LabelledPrompt], predictions: list[Prediction]) -> Report:
    labels = sorted({row.category for row in rows})
    confusion: dict[str, Counter[str]] = defaultdict(Counter)
    languages: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    kinds: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    hits = []
    for row, prediction in zip(rows, predictions, strict=True):
        hit = prediction.category == row.category
        hits.append(hit)
        confusion[row.category][prediction.category] += 1
        for group, key in ((languages, row.language), (kinds, row.kind or "unspecified")):
            group[key][0] += hit
            group[key][1] += 1
    confidences = np.array([p.confidence for p in predictions])
    correct = np.array(hits)
    latencies = np.array([p.latency_ms for p in predictions])
    return Report(
        total=len(rows),
        correct=int(correct.sum()),
        labels=labels,
        confusion=dict(confusion),
        by_language={k: (v[0], v[1]) for k, v in languages.items()},
        by_kind={k: (v[0], v[1]) for k, v in kinds.items()},
        ece=expected_calibration_error(confidences, correct),
        bins=reliability(confidences, correct),
        latency_p50_ms=float(np.percentile(latencies, 50)),
        latency_p95_ms=float(np.percentile(latencies, 95)),
    )
