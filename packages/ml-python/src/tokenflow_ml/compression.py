"""Prompt compression with Microsoft's llmlingua library.

Two methods: LLMLingua-2 (a token classifier that keeps or drops each word) and
the perplexity-based LLMLingua / LongLLMLingua (a small causal LM drops the
tokens it finds least surprising, optionally conditioned on a question).
"""

import logging
import os
import threading
from dataclasses import dataclass
from typing import Protocol

from .perplexity_filter import compress_by_surprisal
from .schemas import CompressRequest
from .settings import tiktoken_cache_dir

log = logging.getLogger("tokenflow_ml.compression")

# tiktoken's cache file name for cl100k_base (sha1 of its download URL).
CL100K_CACHE_KEY = "9b5ad71b2ce5302211f9c61530b329a4922fc6a4"


# How far (relative) the perplexity method may miss the requested size before one retry.
CALIBRATION_TOLERANCE = 0.05


def _wanted_tokens(request: CompressRequest, origin_tokens: int) -> float:
    if request.target_tokens:
        return min(request.target_tokens, origin_tokens)
    return request.ratio * origin_tokens


class UnsupportedOption(ValueError):
    """The request asks for something the configured method cannot do."""


@dataclass(frozen=True)
class Compression:
    compressed_text: str
    origin_tokens: int
    compressed_tokens: int


class Compressor(Protocol):
    method: str
    model: str

    def compress(self, request: CompressRequest) -> Compression: ...


def _prepare_tiktoken() -> None:
    """llmlingua loads tiktoken's cl100k_base at start-up; offline it must be in the cache."""
    cache_dir = tiktoken_cache_dir()
    os.environ["TIKTOKEN_CACHE_DIR"] = str(cache_dir)
    if not (cache_dir / CL100K_CACHE_KEY).exists():
        raise RuntimeError(
            f"tiktoken's cl100k_base is missing from {cache_dir}: run `npm start` or "
            "`npm run setup` to build it, or point TIKTOKEN_CACHE_DIR at a tiktoken cache"
        )


def _result(raw: dict) -> Compression:
    return Compression(
        compressed_text=raw["compressed_prompt"],
        origin_tokens=int(raw["origin_tokens"]),
        compressed_tokens=int(raw["compressed_tokens"]),
    )


class LLMLingua2Compressor:
    method = "llmlingua2"

    def __init__(self, model: str, device: str = "cpu") -> None:
        _prepare_tiktoken()
        from llmlingua import PromptCompressor

        self.model = model
        self._compressor = PromptCompressor(
            model_name=model, use_llmlingua2=True, device_map=device
        )
        self._lock = threading.Lock()

    def compress(self, request: CompressRequest) -> Compression:
        if request.question:
            raise UnsupportedOption(
                "question-aware compression needs the perplexity method: "
                "set ML_COMPRESSOR_BACKEND=llmlingua"
            )
        with self._lock:
            try:
                raw = self._compressor.compress_prompt(
                    request.text,
                    rate=request.ratio,
                    target_token=request.target_tokens or -1,
                    force_tokens=request.force_tokens,
                    force_reserve_digit=request.force_reserve_digit,
                    drop_consecutive=request.drop_consecutive,
                )
            except (IndexError, ValueError) as error:
                # llmlingua fails on text in which its model knows no word (emoji only,
                # a script outside the vocabulary): nothing can be dropped, so send it as is.
                log.warning("llmlingua2 left the text uncompressed: %s", error)
                tokens = len(self._compressor.oai_tokenizer.encode(request.text))
                return Compression(request.text, tokens, tokens)
        return _result(raw)


class _LegacyCacheModel:
    """Lets llmlingua 0.2.2's perplexity loop run on current Transformers.

    llmlingua slices the key/value cache as nested lists and passes them back;
    current models take a Cache object. This converts at the model boundary and
    otherwise behaves like the wrapped model.
    """

    def __init__(self, model) -> None:
        self._model = model

    def __getattr__(self, name: str):
        return getattr(self._model, name)

    def __call__(self, *args, past_key_values=None, **kwargs):
        from transformers import DynamicCache

        if isinstance(past_key_values, list | tuple):
            past_key_values = DynamicCache.from_legacy_cache(
                tuple((key, value) for key, value in past_key_values)
            )
        output = self._model(*args, past_key_values=past_key_values, **kwargs)
        if isinstance(output.past_key_values, DynamicCache):
            output.past_key_values = output.past_key_values.to_legacy_cache()
        return output


class LLMLinguaCompressor:
    method = "llmlingua"

    def __init__(self, model: str, device: str = "cpu") -> None:
        _prepare_tiktoken()
        from llmlingua import PromptCompressor

        self.model = model
        self._compressor = PromptCompressor(model_name=model, device_map=device)
        self._compressor.model = _LegacyCacheModel(self._compressor.model)
        self._lock = threading.Lock()

    def compress(self, request: CompressRequest) -> Compression:
        if request.force_tokens or request.force_reserve_digit:
            if request.question:
                raise UnsupportedOption(
                    "question-aware compression cannot also force tokens or digits: send one or "
                    "the other"
                )
            return self._compress_protecting(request)
        options: dict = {}
        if request.question:
            # LongLLMLingua: rank and compress by relevance to the question.
            options = {
                "question": request.question,
                "rank_method": "longllmlingua",
                "condition_in_question": "after_condition",
                "reorder_context": "sort",
                "dynamic_context_compression_ratio": 0.3,
                "condition_compare": True,
                # The caller sends its question to the LLM itself; keep it out of the text.
                "concate_question": False,
            }
        with self._lock:
            first = _result(self._run(request.text, request.ratio, request.target_tokens, options))
            wanted = _wanted_tokens(request, first.origin_tokens)
            miss = first.compressed_tokens / wanted if wanted else 1.0
            if abs(miss - 1) <= CALIBRATION_TOLERANCE or first.compressed_tokens == 0:
                return first
            # The library budgets in its own LM's tokens but the result is counted in
            # GPT tokens; one corrected pass brings the GPT-token share close to the request.
            asked = wanted / first.origin_tokens
            rate = min(1.0, asked * wanted / first.compressed_tokens)
            second = _result(self._run(request.text, rate, None, options))
            return min((first, second), key=lambda r: abs(r.compressed_tokens - wanted))

    def _compress_protecting(self, request: CompressRequest) -> Compression:
        # The library has no forced tokens for this method: the same token-level
        # filter, with protected words, runs in perplexity_filter.py instead.
        encoder = self._compressor.oai_tokenizer
        origin = len(encoder.encode(request.text))
        budget = int(_wanted_tokens(request, origin))
        with self._lock:
            text = compress_by_surprisal(
                request.text,
                self._compressor.model._model,
                self._compressor.tokenizer,
                lambda piece: len(encoder.encode(piece)),
                budget,
                request.force_tokens,
                request.force_reserve_digit,
            )
        return Compression(text, origin, len(encoder.encode(text)))

    def _run(self, text: str, rate: float, target_tokens: int | None, options: dict) -> dict:
        return self._compressor.compress_prompt(
            [text], rate=rate, target_token=target_tokens or -1, **options
        )


def create_compressor(backend: str, model: str, device: str = "cpu") -> Compressor:
    if backend == "llmlingua2":
        return LLMLingua2Compressor(model, device)
    return LLMLinguaCompressor(model, device)
