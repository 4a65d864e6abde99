"""Which words stay: facts whole, structure intact, then the model's best words, to a budget.

Every method scores words (higher = more worth keeping); this module and layout.py (the
words and what each belongs to) do the rest the same way for all of them:

- a fact span (spans.py) is kept or dropped whole, and fact spans go first;
- a fenced code block is one unit: kept verbatim or dropped, never cut inside;
- line and paragraph breaks stay where words stay; a line's list marker, heading mark,
  table pipes or speaker label ("Dana Whitfield:") stay with it when any of its words do;
- everything is counted in GPT (cl100k) tokens, the unit the caller pays in, and the
  result is trimmed or topped up until it is within a few percent of the budget.
"""

import re
from collections.abc import Callable
from typing import Any

import numpy as np

from .layout import Layout, render

# Which facts go first when they do not all fit: codes, paths and dates are what a
# reader cannot guess; a bare number or a name's second mention the least. Chosen on the
# development documents at ratio 0.3.
KIND_WEIGHT = {
    "forced": 9.0,
    "url": 4.0,
    "email": 4.0,
    "path": 4.0,
    "file": 4.0,
    "env": 4.0,
    "call": 4.0,
    "inline_code": 4.0,
    "command": 4.0,
    "phone": 4.0,
    "identifier": 4.0,
    "version": 4.0,
    "date": 3.5,
    "time": 3.5,
    "quantity": 3.5,
    "name": 3.0,
    "code": 2.5,
}
BARE_NUMBER_WEIGHT = 2.0
TITLED = re.compile(
    r"\b(?:Dr|Prof|Mr|Mrs|Ms|Herr|Frau|Sr|Sra|Mme|M)\.?\s|"
    r"\s(?:GmbH|AG|Inc\.?|Ltd\.?|LLC|plc|S\.A\.|S\.L\.|SAS|SARL|Co\.)$"
)
REPEAT_WEIGHT = 1.0

# A code block that alone would take more than this share of the budget competes like
# any other words (by its mean score) instead of going in with the facts.
CODE_BLOCK_SHARE = 0.25


def select(
    doc: Layout,
    scores: np.ndarray,
    count_tokens: Callable[[str], int],
    word_costs: np.ndarray,
    budget: int,
    *,
    priority: np.ndarray | None = None,
) -> np.ndarray:
    """A keep mask over the words that renders to about `budget` counted tokens.

    `priority` (per word) orders the fact groups when they do not all fit, e.g. by
    relevance to a question; by default their mean score does.
    """
    n = len(scores)
    keep = np.zeros(n, dtype=bool)
    spent = 0
    rank = scores if priority is None else priority

    def cost_of(first: int, last: int) -> int:
        return int(word_costs[first:last].sum())

    facts = [(g, a, b) for g, (kind, a, b) in enumerate(doc.groups) if kind != "code"]
    code = [(g, a, b) for g, (kind, a, b) in enumerate(doc.groups) if kind == "code"]
    small_code = [c for c in code if cost_of(c[1], c[2]) <= CODE_BLOCK_SHARE * budget]
    big_code = [c for c in code if c not in small_code]
    seen: set[str] = set()

    def value(group: tuple[int, int, int]) -> float:
        g, a, b = group
        kind = doc.groups[g][0]
        words = " ".join(doc.text[doc.starts[i] : doc.ends[i]] for i in range(a, b))
        weight = KIND_WEIGHT.get(kind, 2.0)
        if kind == "quantity" and not any(c.isalpha() or c in "$€£¥%" for c in words):
            weight = BARE_NUMBER_WEIGHT
        if kind == "name" and TITLED.search(words):
            weight = KIND_WEIGHT["identifier"]  # "Dr. Katharina Albrecht", "Brenntal GmbH"
        if words.lower() in seen:
            weight = REPEAT_WEIGHT  # the reader has it already: the first mention is enough
        seen.add(words.lower())
        if np.isposinf(scores[a:b]).any():
            # A forced token inside a longer fact: forced means every occurrence, the
            # repeats too.
            weight = KIND_WEIGHT["forced"]
        # Within a tier: the model's view, and cheaper facts first (more of them fit).
        cost = min(cost_of(a, b), 20)
        return weight + 0.5 * float(np.clip(rank[a:b].mean(), 0, 1)) - 0.02 * cost

    # Facts in reading order decide which mention is "first"; then best value first.
    valued = [(value(g), g) for g in sorted(facts + small_code, key=lambda g: g[1])]
    firsts = [g for _, g in sorted(valued, key=lambda v: -v[0])]
    worth = {g: v for v, (g, _, _) in valued}
    # Forced words first (force_tokens, and digits under force_reserve_digit), alone:
    # "48,500" must be in before any fact's label ("Q3 budget of") competes for room.
    for i in np.flatnonzero(np.isposinf(scores)):
        if spent + word_costs[i] <= budget:
            keep[i] = True
            spent += int(word_costs[i])
    for _, a, b in firsts:
        cost = int(word_costs[a:b][~keep[a:b]].sum())
        if spent + cost <= budget:
            keep[a:b] = True
            spent += cost

    # Then single words and large code blocks, best first.
    free = np.flatnonzero((doc.group < 0) & ~doc.structural)
    # Word indexes from numpy (free) and from Python (the groups' bounds) alike.
    units: list[tuple[float, Any, Any]] = [(float(scores[i]), i, i + 1) for i in free]
    units += [(float(scores[a:b].mean()), a, b) for _, a, b in big_code]
    units += [(float(rank[a:b].mean()), a, b) for _, a, b in facts if not keep[a]]
    units.sort(key=lambda u: -u[0])
    for _, a, b in units:
        cost = cost_of(a, b)
        if spent + cost <= budget:
            keep[a:b] = True
            spent += cost
        if spent >= budget:
            break
    return _fit(doc, keep, scores, count_tokens, word_costs, budget, worth)


def _give_up_a_group(
    doc: Layout, keep: np.ndarray, scores: np.ndarray, worth: dict[int, float]
) -> bool:
    """Drops the least valued kept fact group; one with forced words (force_tokens, or
    digits under force_reserve_digit) first shrinks to them: "48,500" without its
    label "Q3 budget of" before it goes. False when no group is left."""
    kept = {int(g) for g in doc.group[keep] if g >= 0}
    if not kept:
        return False

    def shrinkable(g: int) -> bool:
        _, a, b = doc.groups[g]
        forced = np.isposinf(scores[a:b])
        return bool(forced.any() and (keep[a:b] & ~forced).any())

    candidates = [g for g in kept if shrinkable(g)] or kept
    g = min(candidates, key=lambda g: worth.get(g, 0.0))
    _, a, b = doc.groups[g]
    if shrinkable(g):
        keep[a:b] &= np.isposinf(scores[a:b])
    else:
        keep[a:b] = False
    return True


# Under this share of the budget after fitting, free words are added back.
# Rounds of counting for a close fit (each renders and counts the result); past them the
# result is cut to fit, not left over.
FIT_ROUNDS = 40
TOP_UP_BELOW = 0.95


def _fit(
    doc: Layout,
    keep: np.ndarray,
    scores: np.ndarray,
    count_tokens: Callable[[str], int],
    word_costs: np.ndarray,
    budget: int,
    worth: dict[int, float],
) -> np.ndarray:
    """Per-word costs are estimates (tokens merge across words, breaks and structure cost
    too): drop the weakest free words until the counted result fits (the least valued
    fact group when only facts are left), or add the best left out while it is well under."""
    droppable = (doc.group < 0) & ~doc.structural
    for _ in range(FIT_ROUNDS):
        used = count_tokens(render(doc, keep))
        if used <= budget:
            if used >= TOP_UP_BELOW * budget:
                return keep
            left_out = np.flatnonzero(~keep & droppable)
            best = left_out[np.argsort(-scores[left_out])]
            room = budget - used
            added = best[np.cumsum(word_costs[best]) <= room * 0.9]
            # Structure words come along with a line's first word: halve what is added
            # until it fits.
            while len(added):
                trial = keep.copy()
                trial[added] = True
                if count_tokens(render(doc, trial)) <= budget:
                    break
                added = added[: len(added) // 2]
            if len(added) == 0:
                return keep
            keep = trial
            continue
        candidates = np.flatnonzero(keep & droppable)
        if len(candidates):
            weakest = candidates[np.argsort(scores[candidates])]
            # About one word per token over, at least one.
            keep[weakest[: max(1, (used - budget))]] = False
            continue
        # Only facts and structure are left: the least valued fact group goes (or, if
        # it holds forced words, all but them), and what that frees is topped up with
        # words in the next round.
        if not _give_up_a_group(doc, keep, scores, worth):
            break
    # Out of rounds and still over (many facts whose tokens the estimate undercounts):
    # groups go until it fits. Never over the budget.
    while count_tokens(render(doc, keep)) > budget and _give_up_a_group(doc, keep, scores, worth):
        pass
    return keep
