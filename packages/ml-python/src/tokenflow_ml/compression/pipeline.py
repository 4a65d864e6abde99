"""One request through compression: find the facts, score the words, keep the best to budget."""

import os
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..schemas import CompressRequest
from ..settings import tiktoken_cache_dir
from .budget import select
from .layout import layout, render, word_range
from .relevance import passage_relevance
from .spans import Span, find_spans

# tiktoken's cache file name for cl100k_base (sha1 of its download URL).
CL100K_CACHE_KEY = "9b5ad71b2ce5302211f9c61530b329a4922fc6a4"

WordScorer = Callable[[str, np.ndarray, np.ndarray], np.ndarray]

# How much a passage's relevance to the question weighs against a word's own score
# (both scaled to 0-1). Chosen on the development documents.
QUESTION_WEIGHT = 0.6


class UnsupportedOption(ValueError):
    """The request asks for something that cannot be done; the message names the field."""


@dataclass(frozen=True)
class Compression:
    compressed_text: str
    origin_tokens: int
    compressed_tokens: int


def prepare_tiktoken() -> None:
    """tiktoken loads cl100k_base from its cache; offline it must already be there."""
    cache_dir = tiktoken_cache_dir()
    os.environ["TIKTOKEN_CACHE_DIR"] = str(cache_dir)
    if not (cache_dir / CL100K_CACHE_KEY).exists():
        raise RuntimeError(
            f"tiktoken's cl100k_base is missing from {cache_dir}: run `npm start` or "
            "`npm run setup` to build it, or point TIKTOKEN_CACHE_DIR at a tiktoken cache"
        )


class TokenCounter:
    """GPT (cl100k) tokens: what the caller's provider bills."""

    def __init__(self) -> None:
        prepare_tiktoken()
        import tiktoken

        self._encoding = tiktoken.get_encoding("cl100k_base")

    def __call__(self, text: str) -> int:
        return len(self._encoding.encode_ordinary(text))

    def each(self, pieces: list[str]) -> np.ndarray:
        # Each distinct piece once, in this thread: tiktoken's batch call submits one thread
        # pool task per piece, which cost more than the encoding (0.9 s for 6,000 words).
        counts = {piece: len(self._encoding.encode_ordinary(piece)) for piece in set(pieces)}
        return np.fromiter((counts[p] for p in pieces), dtype=np.int64, count=len(pieces))


def _digit_spans(text: str) -> list[Span]:
    return [Span(m.start(), m.end(), "digits") for m in re.finditer(r"\S*\d\S*", text)]


def _forced_spans(text: str, forced: list[str]) -> list[Span]:
    spans = []
    for token in forced:
        if token.strip():
            spans += [
                Span(m.start(), m.end(), "forced") for m in re.finditer(re.escape(token), text)
            ]
    return spans


def _percentiles(values: np.ndarray) -> np.ndarray:
    """Each value's rank as a share of all (0-1): scorers' scales differ, ranks do not."""
    if len(values) < 2:
        return np.ones(len(values))
    return np.argsort(np.argsort(values, kind="stable"), kind="stable") / (len(values) - 1)


def compress_text(request: CompressRequest, score: WordScorer, count: TokenCounter) -> Compression:
    text = request.text
    origin = count(text)
    wanted = min(request.target_tokens, origin) if request.target_tokens else request.ratio * origin
    budget = max(1, round(wanted))

    forced = _forced_spans(text, request.force_tokens)
    forced_cost = int(count.each([text[s.start : s.end] for s in forced]).sum()) if forced else 0
    if forced_cost > budget:
        raise UnsupportedOption(
            f"force_tokens: their occurrences take {forced_cost} tokens, more than the budget "
            f"of {budget} (ratio or target_tokens): force fewer tokens or keep more"
        )
    spans = [*find_spans(text), *forced] if request.preserve else forced
    digits = _digit_spans(text) if request.force_reserve_digit else []
    spans = [*spans, *digits]
    doc = layout(text, spans)
    if len(doc.starts) == 0:
        return Compression(text, origin, origin)

    scores = _percentiles(score(text, doc.starts, doc.ends))
    priority = None
    if request.question:
        relevance = passage_relevance(text, request.question, doc.starts)
        scores = scores + QUESTION_WEIGHT * relevance
        priority = relevance + 0.1 * scores
    # Forced words, and with force_reserve_digit every word with a digit, are kept
    # whatever the model thinks of them (and so is the fact they are part of).
    for span in [*forced, *digits]:
        first, last = word_range(doc, span.start, span.end)
        scores[first:last] = np.inf
        if priority is not None:
            priority[first:last] = np.inf

    words = [text[a:b] for a, b in zip(doc.starts, doc.ends, strict=True)]
    costs = count.each([" " + w for w in words])
    keep = select(doc, scores, count, costs, budget, priority=priority)
    result = render(doc, keep)
    if not result.strip():
        # No word fits the budget (one long word, an emoji run): nothing can be dropped
        # without losing everything, so the text goes as it is.
        return Compression(text, origin, origin)
    if request.drop_consecutive and request.force_tokens:
        result = _drop_repeats(result, request.force_tokens)
    return Compression(result, origin, count(result))


def _drop_repeats(text: str, forced: list[str]) -> str:
    for token in forced:
        if token.strip():
            repeated = re.compile(rf"(?:{re.escape(token)})(?:\s*{re.escape(token)})+")
            text = repeated.sub(token, text)
    return text
