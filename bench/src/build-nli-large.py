"""Builds an NLI model shaped like facebook/bart-large-mnli with random weights, for timing.

Speed depends on the shape, not the weights. The tokenizer is the tests' small
WordPiece one, so texts split into more tokens than with BART's own BPE: the
timings err on the slow side.

    python bench/src/build-nli-large.py DIR
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "packages" / "ml-python" / "tests"))

from tiny_models import _wordpiece_tokenizer  # noqa: E402


def build(directory: Path) -> None:
    if (directory / "config.json").exists():
        return
    import torch
    from transformers import BartConfig, BartForSequenceClassification

    torch.manual_seed(0)
    tokenizer = _wordpiece_tokenizer(directory, model_input_names=["input_ids", "attention_mask"])
    config = BartConfig(
        vocab_size=50265,  # bart-large's, so the embedding matrix has its size too
        d_model=1024,
        encoder_layers=12,
        decoder_layers=12,
        encoder_attention_heads=16,
        decoder_attention_heads=16,
        encoder_ffn_dim=4096,
        decoder_ffn_dim=4096,
        max_position_embeddings=1024,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.cls_token_id,
        eos_token_id=tokenizer.sep_token_id,
        decoder_start_token_id=tokenizer.sep_token_id,
        id2label={0: "contradiction", 1: "neutral", 2: "entailment"},
        label2id={"contradiction": 0, "neutral": 1, "entailment": 2},
    )
    BartForSequenceClassification(config).save_pretrained(directory)


if __name__ == "__main__":
    build(Path(sys.argv[1]))
    print(sys.argv[1])
