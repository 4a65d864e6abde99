"""Builds tiny random-weight models with the real architectures, for tests.

They prove that the whole loading and inference path runs offline; their
outputs are noise, so they prove nothing about quality.

    python tests/tiny_models.py DIR    # builds every model under DIR (skips ones present)
"""

import random
import string
import sys
from pathlib import Path

WORDS = (
    "the a of to and in is for on with as at by from that this it be are was were "
    "team meeting budget revenue quarter product launch customer market growth plan "
    "data model training inference latency cost token prompt compress answer "
    "question report sales cloud server client request response error stream gateway "
    "provider monday tuesday friday january march december north south office "
    "project deadline review design test deploy release feature bug fix user account "
    "price discount order shipping invoice payment contract meeting notes action "
    "item owner risk "
).split()

# Where each model goes; llmlingua picks its word-merging rule from the model path,
# so the LLMLingua-2 model must keep "bert-base-multilingual-cased" in its name.
LLMLINGUA2_DIR = "tiny-llmlingua-2-bert-base-multilingual-cased"
NLI_DIR = "tiny-bart-mnli"
CAUSAL_DIR = "tiny-llama"


def sample_text(words: int, seed: int = 7) -> str:
    """Meeting-notes-like text with numbers and sentence ends, `words` words long."""
    rng = random.Random(seed)
    out: list[str] = []
    while len(out) < words:
        sentence = [rng.choice(WORDS) for _ in range(rng.randint(6, 14))]
        if rng.random() < 0.5:
            sentence.insert(rng.randint(0, len(sentence)), str(rng.randint(1, 9999)))
        sentence[0] = sentence[0].capitalize()
        out.extend(sentence)
        out[-1] += "."
    return " ".join(out[:words])


def _wordpiece_tokenizer(directory: Path, **options):
    from transformers import BertTokenizerFast

    # Every printable character, alone and as a continuation, so no text is [UNK].
    chars = [c for c in string.printable if not c.isspace()]
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *chars, *(f"##{c}" for c in chars)]
    vocab += [w for w in dict.fromkeys(WORDS + [w.capitalize() for w in WORDS]) if w not in vocab]
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "vocab.txt").write_text("\n".join(vocab) + "\n")
    tokenizer = BertTokenizerFast(
        vocab_file=str(directory / "vocab.txt"), do_lower_case=False, **options
    )
    tokenizer.save_pretrained(directory)
    return tokenizer


# bert-base-multilingual-cased's shape (the LLMLingua-2 meetingbank model), for timing.
MBERT_BASE_SHAPE = {
    "vocab_size": 119547,
    "hidden_size": 768,
    "num_hidden_layers": 12,
    "num_attention_heads": 12,
    "intermediate_size": 3072,
}


def build_llmlingua2(directory: Path, base: bool = False) -> None:
    import torch
    from transformers import BertConfig, BertForTokenClassification

    torch.manual_seed(0)
    tokenizer = _wordpiece_tokenizer(directory)
    tiny_shape = {
        "vocab_size": len(tokenizer),
        "hidden_size": 32,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "intermediate_size": 64,
    }
    config = BertConfig(
        **(MBERT_BASE_SHAPE if base else tiny_shape),
        max_position_embeddings=512,
        num_labels=2,
    )
    BertForTokenClassification(config).save_pretrained(directory)


# facebook/bart-large-mnli's shape, for timing (speed depends on the shape, not the weights).
BART_LARGE_SHAPE = {
    "vocab_size": 50265,
    "d_model": 1024,
    "encoder_layers": 12,
    "decoder_layers": 12,
    "encoder_attention_heads": 16,
    "decoder_attention_heads": 16,
    "encoder_ffn_dim": 4096,
    "decoder_ffn_dim": 4096,
    "max_position_embeddings": 1024,
}


def build_nli(directory: Path, large: bool = False) -> None:
    import torch
    from transformers import BartConfig, BartForSequenceClassification

    torch.manual_seed(0)
    # BART takes no token_type_ids.
    tokenizer = _wordpiece_tokenizer(directory, model_input_names=["input_ids", "attention_mask"])
    tiny_shape = {
        "vocab_size": len(tokenizer),
        "d_model": 32,
        "encoder_layers": 1,
        "decoder_layers": 1,
        "encoder_attention_heads": 2,
        "decoder_attention_heads": 2,
        "encoder_ffn_dim": 64,
        "decoder_ffn_dim": 64,
        "max_position_embeddings": 512,
    }
    config = BartConfig(
        **(BART_LARGE_SHAPE if large else tiny_shape),
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.cls_token_id,
        eos_token_id=tokenizer.sep_token_id,
        decoder_start_token_id=tokenizer.sep_token_id,
        id2label={0: "contradiction", 1: "neutral", 2: "entailment"},
        label2id={"contradiction": 0, "neutral": 1, "entailment": 2},
    )
    BartForSequenceClassification(config).save_pretrained(directory)


def build_causal(directory: Path) -> None:
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    torch.manual_seed(0)
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=600,
        special_tokens=["<|endoftext|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    bpe.train_from_iterator([sample_text(200, seed) for seed in range(50)], trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe,
        bos_token="<|endoftext|>",
        eos_token="<|endoftext|>",
        unk_token="<|endoftext|>",
    )
    tokenizer.save_pretrained(directory)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=8192,
        bos_token_id=0,
        eos_token_id=0,
    )
    LlamaForCausalLM(config).save_pretrained(directory)


BUILDERS = {LLMLINGUA2_DIR: build_llmlingua2, NLI_DIR: build_nli, CAUSAL_DIR: build_causal}


def build_all(root: Path) -> dict[str, Path]:
    """Builds each tiny model under `root` once; returns name -> folder."""
    paths = {}
    for name, build in BUILDERS.items():
        directory = root / name
        if not (directory / "config.json").exists():
            build(directory)
        paths[name] = directory
    return paths


if __name__ == "__main__":
    for name, path in build_all(Path(sys.argv[1])).items():
        print(f"{name}\t{path}")


def tiny_backends(models: dict[str, str]) -> dict[str, str]:
    """The settings of a service with the tiny NLI classifier and LLMLingua-2 compressor.

    `models` is the `tiny_models` fixture's value (the folders build_all made).
    """
    return {
        "classifier_backend": "nli",
        "classifier_model": models["nli"],
        "compressor_backend": "llmlingua2",
        "compressor_model": models["llmlingua2"],
    }
