"""The offline default compressor: LLMLingua's perplexity method with the real SmolLM2-135M."""

import difflib
import json
import math
import random
import re
from collections import Counter
from pathlib import Path
from statistics import mean

import pytest
from tiny_models import sample_text

from tokenflow_ml.compression import LLMLinguaCompressor
from tokenflow_ml.compression.library import library_compressor
from tokenflow_ml.compression.perplexity import token_surprisal
from tokenflow_ml.local_model import local_model_path
from tokenflow_ml.schemas import CompressRequest

NUMBERS = re.compile(r"\d+")


@pytest.fixture(scope="module")
def smollm2():
    path = local_model_path()
    assert path, "SmolLM2 is not materialised: run `npm run setup`"
    return LLMLinguaCompressor(path)


def test_keeps_the_requested_share_of_a_long_text_within_15_percent(smollm2, capsys):
    ratio = 0.5
    text = sample_text(2000)

    result = smollm2.compress(CompressRequest(text=text, ratio=ratio))

    achieved = result.compressed_tokens / result.origin_tokens
    with capsys.disabled():
        print(
            f"\nSmolLM2 perplexity compression of 2,000 words: asked {ratio}, kept {achieved:.3f}"
        )
    assert achieved == pytest.approx(ratio, rel=0.15)
    assert len(result.compressed_text) < len(text)


def test_keeps_every_forced_word_and_number_and_still_meets_the_budget(smollm2):
    text = sample_text(2000)

    result = smollm2.compress(
        CompressRequest(
            text=text, ratio=0.5, force_tokens=["budget", "deadline"], force_reserve_digit=True
        )
    )

    for word in ("budget", "deadline"):
        assert result.compressed_text.count(word) == text.count(word)
    assert Counter(NUMBERS.findall(result.compressed_text)) == Counter(NUMBERS.findall(text))
    assert result.compressed_tokens / result.origin_tokens == pytest.approx(0.5, rel=0.15)


def test_keeps_line_breaks_when_the_newline_is_forced(smollm2):
    text = "\n".join(sample_text(60, seed) for seed in range(10))

    result = smollm2.compress(CompressRequest(text=text, ratio=0.5, force_tokens=["\n"]))

    assert result.compressed_text.count("\n") == text.count("\n")


def test_the_protecting_filter_agrees_with_the_library_on_what_matters(smollm2, capsys):
    # Checked against the library itself: on natural prose, the words llmlingua keeps
    # are the ones our scorer finds more surprising, and our filter keeps more of the
    # same positions than a random choice of the same size would.
    text = recorded_answer()
    words = text.split()
    library_result = library_compressor(smollm2.model, llmlingua2=False).compress_prompt(
        [text], rate=0.5
    )
    library = kept_positions(words, library_result["compressed_prompt"])
    ours = kept_positions(
        words,
        smollm2.compress(CompressRequest(text=text, ratio=0.5, preserve=False)).compressed_text,
    )

    offsets, surprisal = token_surprisal(smollm2._model, smollm2._tokenizer, text)
    scored = word_surprisal(text, offsets, surprisal)
    kept = mean(s for s, k in zip(scored, library, strict=True) if k and s != math.inf)
    dropped = mean(s for s, k in zip(scored, library, strict=True) if not k and s != math.inf)

    def agreement(mask: list[bool]) -> float:
        return sum(a == b for a, b in zip(mask, library, strict=True)) / len(words)

    share = sum(ours) / len(words)
    chance = mean(
        agreement([random.Random(seed).random() < share for _ in words]) for seed in range(20)
    )
    with capsys.disabled():
        print(
            f"\nagainst llmlingua: surprisal of kept words {kept:.2f} vs dropped {dropped:.2f}; "
            f"same decision on {agreement(ours):.0%} of words (random: {chance:.0%})"
        )
    assert kept > dropped * 1.2
    assert agreement(ours) > chance + 0.04


def word_surprisal(text: str, offsets, surprisal) -> list[float]:
    """The mean surprisal of each whitespace-separated word's tokens."""
    scores = []
    token = 0
    for match in re.finditer(r"\S+", text):
        values = []
        while token < len(offsets) and offsets[token][0] < match.end():
            if offsets[token][1] > match.start():
                values.append(surprisal[token])
            token += 1
        scores.append(mean(values) if values else math.inf)
    return scores


def kept_positions(words: list[str], compressed: str) -> list[bool]:
    """Which of the original words survive, by aligning the compressed text with the original."""
    mask = [False] * len(words)
    matcher = difflib.SequenceMatcher(a=words, b=compressed.split(), autojunk=False)
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            mask[block.a + k] = True
    return mask


def recorded_answer() -> str:
    """Natural prose: the answer in a recorded Groq stream (a recipe, about 600 words)."""
    path = (
        Path(__file__).parents[3]
        / "fixtures"
        / "upstream-streams"
        / "groq-thinking-part-iter-0.sse"
    )
    text = ""
    for line in path.read_text().splitlines():
        if line.startswith("data: {"):
            for choice in json.loads(line[len("data: ") :]).get("choices", []):
                text += choice.get("delta", {}).get("content") or ""
    return text
