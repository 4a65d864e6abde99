"""The offline default compressor: LLMLingua's perplexity method with the real SmolLM2-135M."""

import pytest
from tiny_models import sample_text

from tokenflow_ml.compression import LLMLinguaCompressor
from tokenflow_ml.local_model import local_model_path
from tokenflow_ml.schemas import CompressRequest


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
