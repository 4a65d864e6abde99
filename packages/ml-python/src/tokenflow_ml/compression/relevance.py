"""Question-aware compression, coarse step: how relevant each passage is to the question.

Passages are paragraphs (blank-line separated) or numbered sources ("[3] ..."). Each is
scored with BM25 over the question's terms, the terms cut to their first five letters so
"dredging"/"dredged" and "Prognose"/"Prognosen" meet, in any of the languages we serve.
The fine step is the word scorer's; pipeline.py adds the two.
"""

import itertools
import math
import re

import numpy as np

PASSAGE_BREAK = re.compile(r"\n[ \t]*\n|\n(?=\[\d+\])")
TERM = re.compile(r"[^\W_]{3,}", re.UNICODE)
STEM = 5
STOP = frozenset(
    "the and for are was were what which who whom when where how why does did with from that "
    "this have has had will would should could into about after before than then them they "
    "der die das und ist sind wie was wer wann welche welcher welches mit von für auf den dem "
    "los las del por para que como cual cuál cuándo dónde qué con una uno sus "
    "les des une est que qui quoi quand pour avec dans sur par".split()
)


def _terms(text: str) -> list[str]:
    return [t.lower()[:STEM] for t in TERM.findall(text) if t.lower() not in STOP]


def passages(text: str) -> list[tuple[int, int]]:
    bounds = [0, *(m.end() for m in PASSAGE_BREAK.finditer(text)), len(text)]
    return [(a, b) for a, b in itertools.pairwise(bounds) if text[a:b].strip()]


def passage_relevance(text: str, question: str, word_starts: np.ndarray) -> np.ndarray:
    """Per word, its passage's BM25 score against `question`, scaled so the best passage is 1."""
    parts = passages(text)
    query = set(_terms(question))
    if not parts or not query:
        return np.zeros(len(word_starts))
    bags = [_terms(text[a:b]) for a, b in parts]
    average = sum(len(b) for b in bags) / len(bags) or 1.0
    df = {t: sum(1 for b in bags if t in b) for t in query}
    k1, b = 1.2, 0.75
    scores = []
    for bag in bags:
        score = 0.0
        for term in query:
            tf = bag.count(term)
            if tf:
                idf = math.log(1 + (len(bags) - df[term] + 0.5) / (df[term] + 0.5))
                score += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len(bag) / average))
        scores.append(score)
    best = max(scores)
    scaled = np.asarray(scores) / best if best > 0 else np.zeros(len(scores))
    starts = np.asarray([a for a, _ in parts])
    return scaled[np.searchsorted(starts, word_starts, side="right") - 1]
