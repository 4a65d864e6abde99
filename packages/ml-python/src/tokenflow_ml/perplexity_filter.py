"""Token-level perplexity filtering with a budget: the core of LLMLingua (Jiang et al., 2023).

A small causal LM scores each token by its surprisal, -log p(token | text before it);
the least surprising words carry the least information and are dropped first, until
the text fits the budget. Words that must survive (forced tokens, numbers) are kept
whatever their score. The llmlingua library (0.2.2) has no forced tokens for this
method, so `compression.py` runs this filter when a request asks for them.
"""

import math
import re
from dataclasses import dataclass

WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class Word:
    start: int
    end: int
    surprisal: float
    protected: bool


def token_surprisal(model, tokenizer, text: str, window: int = 1024, context: int = 256):
    """(offsets, surprisal) per token of `text`, in windows that see `context` tokens before."""
    import torch

    encoded = tokenizer(text, return_offsets_mapping=True, add_special_tokens=False)
    ids: list[int] = encoded["input_ids"]
    offsets: list[tuple[int, int]] = encoded["offset_mapping"]
    surprisal = [math.inf] * len(ids)  # the first token has nothing before it: always keep
    for start in range(1, len(ids), window):
        begin = max(0, start - context)
        end = min(len(ids), start + window)
        with torch.inference_mode():
            logits = model(torch.tensor([ids[begin:end]], device=model.device)).logits[0]
        log_probs = torch.log_softmax(logits.float(), dim=-1)
        for i in range(start, end):
            surprisal[i] = -float(log_probs[i - begin - 1, ids[i]])
    return offsets, surprisal


def words_of(text: str, offsets, surprisal, protect) -> list[Word]:
    words = []
    token = 0
    for match in WORD.finditer(text):
        scores = []
        while token < len(offsets) and offsets[token][0] < match.end():
            if offsets[token][1] > match.start():
                scores.append(surprisal[token])
            token += 1
        mean = sum(scores) / len(scores) if scores else math.inf
        words.append(Word(match.start(), match.end(), mean, protect(match.group())))
    return words


def filter_text(text: str, words: list[Word], keep, keep_newlines: bool) -> str:
    """The kept words in order, separated by a space, or by the gap's newlines when kept."""
    out: list[str] = []
    previous_end = 0
    for word in words:
        gap = text[previous_end : word.start]
        if word in keep:
            newlines = gap.count("\n") if keep_newlines else 0
            separator = "\n" * newlines if newlines else (" " if out else "")
            out.append(separator + text[word.start : word.end])
            previous_end = word.end
    if keep_newlines:
        out.append("\n" * text[previous_end:].count("\n"))
    return "".join(out)


def compress_by_surprisal(
    text: str,
    model,
    tokenizer,
    count_tokens,
    budget: int,
    force_tokens: list[str],
    keep_digits: bool,
) -> str:
    """Keeps protected words, then the most surprising ones, until `budget` counted tokens."""
    forced = [t for t in force_tokens if t.strip()]

    def protect(word: str) -> bool:
        return any(t in word for t in forced) or (keep_digits and any(c.isdigit() for c in word))

    offsets, surprisal = token_surprisal(model, tokenizer, text)
    words = words_of(text, offsets, surprisal, protect)
    keep_newlines = "\n" in force_tokens

    def separator(index: int) -> str:
        gap = text[words[index - 1].end if index else 0 : words[index].start]
        newlines = gap.count("\n") if keep_newlines else 0
        return "\n" * newlines if newlines else " "

    # Each word is charged with the separator it would bring along.
    cost = [count_tokens(separator(i) + text[w.start : w.end]) for i, w in enumerate(words)]
    order = sorted(range(len(words)), key=lambda i: (not words[i].protected, -words[i].surprisal))
    keep: set[int] = set()
    spent = 0
    for i in order:
        if words[i].protected or spent + cost[i] <= budget:
            keep.add(i)
            spent += cost[i]
    result = filter_text(text, words, {words[i] for i in keep}, keep_newlines)
    # Separators merge into fewer or more tokens than charged: trim the least surprising
    # unprotected words until the counted result fits.
    for i in reversed(order):
        if count_tokens(result) <= budget:
            break
        if i in keep and not words[i].protected:
            keep.discard(i)
            result = filter_text(text, words, {words[k] for k in keep}, keep_newlines)
    return result
