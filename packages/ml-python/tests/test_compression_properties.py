"""Compression on tiny random-weight models: the guarantees that hold whatever the weights."""

import re
from collections import Counter

import pytest
from tiny_models import sample_text

from tokenflow_ml.compression import LLMLingua2Compressor, LLMLinguaCompressor, UnsupportedOption
from tokenflow_ml.schemas import CompressRequest

TEXT = sample_text(2000)
NUMBERS = re.compile(r"\d+")


@pytest.fixture(scope="module")
def llmlingua2(tiny_models):
    return LLMLingua2Compressor(tiny_models["llmlingua2"])


@pytest.fixture(scope="module")
def llmlingua(tiny_models):
    return LLMLinguaCompressor(tiny_models["causal"])


@pytest.mark.parametrize("ratio", [0.3, 0.5, 0.7])
def test_llmlingua2_keeps_the_requested_share_of_tokens_within_10_percent(llmlingua2, ratio):
    result = llmlingua2.compress(CompressRequest(text=TEXT, ratio=ratio))

    assert result.compressed_tokens <= result.origin_tokens
    achieved = result.compressed_tokens / result.origin_tokens
    assert achieved == pytest.approx(ratio, rel=0.10)


def test_llmlingua2_keeps_every_forced_token_occurrence(llmlingua2):
    result = llmlingua2.compress(
        CompressRequest(text=TEXT, ratio=0.3, force_tokens=["budget", "deadline"])
    )

    for word in ("budget", "deadline"):
        assert result.compressed_text.count(word) == TEXT.count(word)


def test_llmlingua2_keeps_every_number_with_force_reserve_digit(llmlingua2):
    result = llmlingua2.compress(CompressRequest(text=TEXT, ratio=0.3, force_reserve_digit=True))

    assert Counter(NUMBERS.findall(result.compressed_text)) == Counter(NUMBERS.findall(TEXT))


def test_llmlingua2_meets_a_token_budget(llmlingua2):
    result = llmlingua2.compress(CompressRequest(text=TEXT, target_tokens=500))

    assert result.compressed_tokens == pytest.approx(500, rel=0.10)


@pytest.mark.parametrize("ratio", [0.5, 0.7])
def test_llmlingua_perplexity_method_keeps_the_requested_share_within_10_percent(llmlingua, ratio):
    result = llmlingua.compress(CompressRequest(text=TEXT, ratio=ratio))

    assert result.compressed_tokens <= result.origin_tokens
    assert result.compressed_tokens / result.origin_tokens == pytest.approx(ratio, rel=0.10)


def test_llmlingua_compresses_relative_to_a_question(llmlingua):
    result = llmlingua.compress(
        CompressRequest(text=TEXT, ratio=0.5, question="What was decided about the budget?")
    )

    assert 0 < result.compressed_tokens < result.origin_tokens
    assert "What was decided" not in result.compressed_text


def test_llmlingua_keeps_forced_words_and_numbers_through_its_protecting_filter(llmlingua):
    result = llmlingua.compress(
        CompressRequest(text=TEXT, ratio=0.4, force_tokens=["budget"], force_reserve_digit=True)
    )

    assert result.compressed_text.count("budget") == TEXT.count("budget")
    assert Counter(NUMBERS.findall(result.compressed_text)) == Counter(NUMBERS.findall(TEXT))
    assert result.compressed_tokens < result.origin_tokens


def test_llmlingua_keeps_forced_tokens_in_question_aware_compression(llmlingua):
    result = llmlingua.compress(
        CompressRequest(text=TEXT, ratio=0.4, question="Why?", force_tokens=["budget"])
    )

    assert result.compressed_text.count("budget") == TEXT.count("budget")


def test_more_forced_tokens_than_the_budget_is_refused_naming_the_field(llmlingua):
    with pytest.raises(UnsupportedOption, match=r"^force_tokens: .* more than the budget"):
        llmlingua.compress(CompressRequest(text=TEXT, target_tokens=3, force_tokens=["budget"]))
