"""Temperature scaling and expected calibration error (Guo et al., 2017)."""

import itertools

import numpy as np
from scipy.optimize import minimize_scalar

from .head import softmax


def negative_log_likelihood(logits: np.ndarray, targets: np.ndarray, temperature: float) -> float:
    probs = softmax(logits / temperature)
    return float(-np.log(probs[np.arange(len(targets)), targets] + 1e-12).mean())


def fit_temperature(logits: np.ndarray, targets: np.ndarray) -> float:
    """The single temperature that makes held-out confidences honest (minimum NLL)."""
    result = minimize_scalar(
        lambda log_t: negative_log_likelihood(logits, targets, float(np.exp(log_t))),
        bounds=(np.log(0.05), np.log(20.0)),
        method="bounded",
    )
    return round(float(np.exp(result.x)), 6)


def reliability(
    confidences: np.ndarray, correct: np.ndarray, bins: int = 10
) -> list[dict[str, float]]:
    """Per confidence bin: how many predictions, their mean confidence, and how many were right."""
    edges = np.linspace(0, 1, bins + 1)
    rows = []
    for low, high in itertools.pairwise(edges):
        inside = (confidences > low) & (confidences <= high)
        if inside.any():
            rows.append(
                {
                    "low": float(low),
                    "high": float(high),
                    "count": int(inside.sum()),
                    "confidence": float(confidences[inside].mean()),
                    "accuracy": float(correct[inside].mean()),
                }
            )
    return rows


def expected_calibration_error(
    confidences: np.ndarray, correct: np.ndarray, bins: int = 10
) -> float:
    """The gap between confidence and accuracy, averaged over bins weighted by their size."""
    total = len(confidences)
    return float(
        sum(
            row["count"] / total * abs(row["confidence"] - row["accuracy"])
            for row in reliability(confidences, correct, bins)
        )
    )
