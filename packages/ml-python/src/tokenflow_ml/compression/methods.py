"""The compressors the service offers: LLMLingua-2 and perplexity-based LLMLingua.

Each scores words with its model; pipeline.py keeps facts and structure and fits the
budget the same way for both.
"""

import threading
from typing import Protocol

import numpy as np

from ..schemas import CompressRequest
from .distilled import DistilledScorer
from .perplexity import token_surprisal
from .pipeline import Compression, TokenCounter, compress_text
from .token_classifier import Runtime, TokenClassifierScorer, merge_to_words


class Compressor(Protocol):
    method: str
    model: str

    def compress(self, request: CompressRequest) -> Compression: ...


class LLMLingua2Compressor:
    method = "llmlingua2"

    def __init__(
        self, model: str, device: str = "cpu", runtime: Runtime = "onnx", threads: int = 1
    ) -> None:
        self.model = model
        self._scorer = TokenClassifierScorer(model, device, runtime, threads)
        self._counter = TokenCounter()
        self._lock = threading.Lock()

    def compress(self, request: CompressRequest) -> Compression:
        with self._lock:
            return compress_text(request, self._scorer.word_scores, self._counter)


class LLMLinguaCompressor:
    """Perplexity filtering (LLMLingua): a small causal LM's surprisal scores the words."""

    method = "llmlingua"

    def __init__(self, model: str, device: str = "cpu") -> None:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.model = model
        self._tokenizer = AutoTokenizer.from_pretrained(model)
        # transformers hints the decorated from_pretrained as taking the model class first.
        self._model = AutoModelForCausalLM.from_pretrained(model).to(device).eval()  # type: ignore[arg-type]
        self._counter = TokenCounter()
        self._lock = threading.Lock()

    def word_scores(self, text: str, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        offsets, surprisal = token_surprisal(self._model, self._tokenizer, text)
        values = np.asarray(surprisal, dtype=np.float64)
        # The first token has nothing before it to be predicted from: score it as the most
        # surprising one, so it stays.
        finite = values[np.isfinite(values)]
        values[~np.isfinite(values)] = finite.max() if finite.size else 0.0
        return merge_to_words(np.asarray(offsets).reshape(-1, 2), values, starts, ends, fill=0.0)

    def compress(self, request: CompressRequest) -> Compression:
        with self._lock:
            return compress_text(request, self.word_scores, self._counter)


class DistilledCompressor:
    """The offline default: MiniLM word scores distilled from the perplexity method."""

    method = "distilled"

    def __init__(self, model: str, threads: int = 1) -> None:
        self.model = model
        self._scorer = DistilledScorer(model, threads=threads)
        self._counter = TokenCounter()
        self._lock = threading.Lock()

    def compress(self, request: CompressRequest) -> Compression:
        with self._lock:
            return compress_text(request, self._scorer.word_scores, self._counter)


def create_compressor(
    backend: str, model: str, device: str = "cpu", runtime: Runtime = "onnx", threads: int = 1
) -> Compressor:
    if backend == "llmlingua2":
        return LLMLingua2Compressor(model, device, runtime, threads)
    if backend == "distilled":
        return DistilledCompressor(model, threads)
    return LLMLinguaCompressor(model, device)
