"""A sentence-transformers mean-pooling encoder run by ONNX Runtime.

On two CPU cores ONNX Runtime runs all-MiniLM-L6-v2 2.4 times faster than
PyTorch (8.2 ms against 19.5 ms for a 17-token prompt) with embeddings equal to
1e-6, and its int8 form (dynamic quantisation of the matrix products, per
channel, unsigned 8-bit on both sides so no CPU's integer kernels saturate) a
further third faster (6.6 ms against 9.9 ms in one run), at cosine 0.99 to the
fp32 embeddings and the same validation accuracy with a head trained on it
(85.5% against 85.3%). The graphs are made from the same weights once and kept
in a cache keyed by the weights' hash: the first start pays about 5 s.
"""

import json
import threading
from pathlib import Path

import numpy as np

from ..onnx_models import onnx_session
from .clipping import clip, embeds_whole


def supports_onnx(model: str) -> bool:
    """A local sentence-transformers folder that mean-pools and normalises, like MiniLM."""
    folder = Path(model)
    try:
        modules = [
            m["type"].rsplit(".", 1)[-1] for m in json.loads((folder / "modules.json").read_text())
        ]
        pooling = json.loads((folder / "1_Pooling" / "config.json").read_text())
        json.loads((folder / "sentence_bert_config.json").read_text())
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False
    mean_only = pooling.get("pooling_mode_mean_tokens") and not any(
        value
        for key, value in pooling.items()
        if key.startswith("pooling_mode_") and key != "pooling_mode_mean_tokens"
    )
    return (
        modules == ["Transformer", "Pooling", "Normalize"]
        and bool(mean_only)
        and (folder / "model.safetensors").exists()
    )


class OnnxSentenceEncoder:
    """The part of SentenceTransformer that routing uses: encode(), and the dimensions."""

    def __init__(self, model: str, cache_dir: Path, threads: int, quantized: bool) -> None:
        from transformers import AutoTokenizer

        folder = Path(model)
        config = json.loads((folder / "sentence_bert_config.json").read_text())
        self.max_tokens = int(config.get("max_seq_length", 256))
        self.tokenizer = AutoTokenizer.from_pretrained(folder)
        # A fast tokenizer is one Rust object whose truncation settings each call changes:
        # worker threads take turns (the model run itself needs no lock).
        self._tokenizing = threading.Lock()
        self.session = onnx_session(
            folder,
            cache_dir,
            head="AutoModel",
            output="last_hidden_state",
            quantized=quantized,
            threads=threads,
        )
        self.inputs = [i.name for i in self.session.get_inputs()]
        self.dimensions = int(
            json.loads((folder / "1_Pooling" / "config.json").read_text())[
                "word_embedding_dimension"
            ]
        )

    def embeds_whole(self, text: str) -> bool:
        with self._tokenizing:
            return embeds_whole(self.tokenizer, text)

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        # Sorted by length, so a batch pads little; the order is restored at the end.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            with self._tokenizing:
                batch = self.tokenizer(
                    [clip(self.tokenizer, texts[i]) for i in rows],
                    padding=True,
                    truncation=True,
                    max_length=self.max_tokens,
                    return_tensors="np",
                )
            feed = {name: batch[name].astype(np.int64) for name in self.inputs}
            hidden = self.session.run(None, feed)[0]
            mask = batch["attention_mask"][..., None].astype(np.float32)
            pooled = (hidden * mask).sum(1) / np.clip(mask.sum(1), 1e-9, None)
            out[rows] = pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
        return out
