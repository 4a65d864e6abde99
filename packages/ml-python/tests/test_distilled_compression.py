"""The offline default: a MiniLM word scorer distilled from SmolLM2's perplexity."""

import json

import pytest

from tokenflow_ml.compression import DistilledCompressor
from tokenflow_ml.compression.distill import main as train
from tokenflow_ml.compression.distilled import DEFAULT_HEAD, HeadError, load_distilled_head
from tokenflow_ml.schemas import CompressRequest
from tokenflow_ml.settings import bundled_minilm

TEXT = (
    "Dana Whitfield: Thanks for joining. The vendor quote came in at €7,500, which is more "
    "than we hoped, honestly, but still within the range we discussed last month. "
) * 20


def test_the_bundled_head_loads_and_states_its_agreement_with_the_teacher():
    head = load_distilled_head(DEFAULT_HEAD, 384)

    assert head.agreement > 0.55  # a random keep/drop choice agrees on about half


def test_an_edited_head_is_refused_with_the_command_that_retrains_it(tmp_path):
    body = json.loads(DEFAULT_HEAD.read_text())
    body["bias"] += 1
    edited = tmp_path / "head.json"
    edited.write_text(json.dumps(body))

    with pytest.raises(HeadError, match="npm run compressor:train"):
        load_distilled_head(edited, 384)


def test_it_compresses_to_the_requested_size_and_keeps_the_facts():
    compressor = DistilledCompressor(bundled_minilm(), threads=2)

    result = compressor.compress(CompressRequest(text=TEXT, ratio=0.4))

    assert result.compressed_tokens / result.origin_tokens == pytest.approx(0.4, rel=0.1)
    assert result.compressed_text.count("€7,500") >= 1
    assert result.compressed_text.startswith("Dana Whitfield:")


def test_training_writes_a_head_that_loads(tmp_path, capsys):
    out = tmp_path / "head.json"

    assert train(["--out", str(out), "--tokens", "400", "--held-out", "1"]) == 0

    assert load_distilled_head(out, 384).training_words > 0
    assert "agreement with SmolLM2" in capsys.readouterr().out
