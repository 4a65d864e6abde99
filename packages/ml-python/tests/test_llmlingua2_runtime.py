"""LLMLingua-2 on ONNX Runtime makes the library's keep/drop decisions, in fp32 exactly."""

import pytest
from tiny_models import sample_text

from tokenflow_ml.compression import LLMLingua2Compressor
from tokenflow_ml.compression.library import (
    bert_word_probabilities,
    keep_agreement,
    library_compressor,
    library_word_probabilities,
)
from tokenflow_ml.compression.token_classifier import TokenClassifierScorer
from tokenflow_ml.schemas import CompressRequest

# Long enough for several 512-token windows, so window boundaries are compared too.
TEXT = sample_text(1500, seed=3)


@pytest.fixture(scope="module")
def library_scores(tiny_models):
    return library_word_probabilities(library_compressor(tiny_models["llmlingua2"], True), TEXT)


@pytest.mark.parametrize(
    ("runtime", "floor"), [("torch", 0.98), ("onnx", 0.98), ("onnx-int8", 0.95)]
)
def test_each_runtime_keeps_and_drops_the_words_the_library_does(
    tiny_models, library_scores, runtime, floor, capsys
):
    scorer = TokenClassifierScorer(tiny_models["llmlingua2"], runtime=runtime, threads=2)

    agreement = keep_agreement(bert_word_probabilities(scorer, TEXT), library_scores)

    with capsys.disabled():
        print(f"\nllmlingua2 {runtime}: same keep/drop as the library on {agreement:.2%} of words")
    assert agreement >= floor


def test_the_onnx_compressor_compresses_to_the_requested_size(tiny_models):
    compressor = LLMLingua2Compressor(tiny_models["llmlingua2"], runtime="onnx-int8", threads=2)

    result = compressor.compress(CompressRequest(text=TEXT, ratio=0.4))

    assert result.compressed_tokens / result.origin_tokens == pytest.approx(0.4, rel=0.1)
