"""The sentence encoder under both routing methods (similarity and the trained head).

ONNX Runtime where the model allows (a local mean-pooling folder such as the
bundled MiniLM), sentence-transformers on PyTorch otherwise: same embeddings.
"""

import os
import threading
from pathlib import Path
from typing import Protocol

import numpy as np

from ..settings import models_dir
from .clipping import clip, embeds_whole
from .onnx_encoder import OnnxSentenceEncoder, supports_onnx


class Encoder(Protocol):
    dimensions: int

    def encode(self, texts: list[str]) -> np.ndarray: ...

    def embeds_whole(self, text: str) -> bool:
        """Whether encode() reads all of `text` (a long one is clipped to its start and end)."""
        ...


class TorchSentenceEncoder:
    def __init__(self, model: str, device: str) -> None:
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(model, device=device)
        self.dimensions = int(self._model.get_embedding_dimension())
        self._lock = threading.Lock()  # one fast tokenizer, reconfigured by every call

    def encode(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            return self._encode(texts)

    def embeds_whole(self, text: str) -> bool:
        with self._lock:
            return embeds_whole(self._model.tokenizer, text)

    def _encode(self, texts: list[str]) -> np.ndarray:
        # No progress bar: tqdm's lines would break the service's JSON logs.
        embeddings = self._model.encode(
            [clip(self._model.tokenizer, text) for text in texts],
            batch_size=32,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(embeddings)


def onnx_cache_dir() -> Path:
    return models_dir() / "onnx"


def load_encoder(
    model: str, device: str = "cpu", runtime: str = "onnx-int8", threads: int | None = None
) -> Encoder:
    if runtime.startswith("onnx") and device == "cpu" and supports_onnx(model):
        quantized = runtime == "onnx-int8"
        return OnnxSentenceEncoder(
            model, onnx_cache_dir(), threads or os.cpu_count() or 1, quantized
        )
    return TorchSentenceEncoder(model, device)
