"""LLMLingua-2's word scores: a token classifier's probability that each word is kept.

The same computation as the llmlingua library (0.2.2): the text in windows of at most
510 model tokens, cut after a full stop; softmax over the two labels; a word's score is
the mean over its tokens. Done faster: the text is tokenized once with offsets, windows
are padded only to the longest of their batch (the library pads every window to 512),
and tokens are merged into words with numpy instead of a Python loop per token.
"""

from pathlib import Path
from typing import Literal

import numpy as np

from ..onnx_models import onnx_session
from ..settings import models_dir

WINDOW = 510  # the model's 512 positions less [CLS] and [SEP]
POSITIONS = 512
BATCH = 8


def windows(ids: list[int], full_stop_ids: set[int], size: int = WINDOW) -> list[tuple[int, int]]:
    """[start, end) token ranges, each ending after the last full stop that fits, as in
    the library."""
    out = []
    start = 0
    n = len(ids)
    while start < n:
        if start + size > n - 1:
            out.append((start, n))
            break
        end = start + size  # inclusive, as in the library: up to size + 1 tokens
        for j in range(0, end - start):
            if ids[end - j] in full_stop_ids:
                end = end - j
                break
        out.append((start, end + 1))
        start = end + 1
    return out


Runtime = Literal["onnx", "onnx-int8", "torch"]


class TokenClassifierScorer:
    """Scores words with a Transformers token-classification model on the CPU: ONNX Runtime
    (fp32 or int8, exported once) or PyTorch."""

    def __init__(
        self, model: str, device: str = "cpu", runtime: Runtime = "onnx", threads: int = 1
    ) -> None:
        from transformers import AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(model)
        stops = [self.tokenizer.convert_tokens_to_ids(t) for t in (".", "\n")]
        self._full_stops = {i for i in stops if i is not None and i != self.tokenizer.unk_token_id}
        if runtime.startswith("onnx") and device == "cpu":
            session = onnx_session(
                Path(model),
                models_dir() / "onnx",
                head="AutoModelForTokenClassification",
                output="logits",
                quantized=runtime == "onnx-int8",
                threads=threads,
            )
            names = {i.name for i in session.get_inputs()}

            def logits(ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
                feed = {"input_ids": ids, "attention_mask": mask}
                if "token_type_ids" in names:
                    feed["token_type_ids"] = np.zeros_like(ids)
                return np.asarray(session.run(None, feed)[0])
        else:
            import torch
            from transformers import AutoModelForTokenClassification

            network = AutoModelForTokenClassification.from_pretrained(model).to(device).eval()

            def logits(ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
                with torch.inference_mode():
                    out = network(
                        input_ids=torch.from_numpy(ids).to(device),
                        attention_mask=torch.from_numpy(mask).to(device),
                    )
                return np.asarray(out.logits.float().cpu().numpy())

        self._logits = logits

    def _probabilities(self, batch: list[list[int]]) -> list[np.ndarray]:
        cls, sep = self.tokenizer.cls_token_id, self.tokenizer.sep_token_id
        pad = self.tokenizer.pad_token_id or 0
        # [CLS] window [SEP], cut to the model's 512 positions as the library cuts it (a
        # window of 511 tokens loses its [SEP]), so both see the same input.
        rows = [[cls, *window, sep][:POSITIONS] for window in batch]
        width = max(len(r) for r in rows)
        ids = np.full((len(batch), width), pad, dtype=np.int64)
        mask = np.zeros((len(batch), width), dtype=np.int64)
        for row, tokens in enumerate(rows):
            ids[row, : len(tokens)] = tokens
            mask[row, : len(tokens)] = 1
        logits = self._logits(ids, mask).astype(np.float64)
        # The keep label's softmax probability, computed stably.
        keep = 1.0 / (1.0 + np.exp(logits[..., 0] - logits[..., 1]))
        return [keep[row, 1 : len(window) + 1] for row, window in enumerate(batch)]

    def token_probabilities(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """(char offsets (n, 2), keep probability (n,)) of each model token of `text`."""
        # Not thread-safe (a fast tokenizer's settings change per call): the compressor
        # that owns this scorer holds its lock around every call.
        encoded = self.tokenizer(
            text, add_special_tokens=False, return_offsets_mapping=True, verbose=False
        )
        ids: list[int] = encoded["input_ids"]
        offsets = np.asarray(encoded["offset_mapping"], dtype=np.int64).reshape(-1, 2)
        probs = np.zeros(len(ids), dtype=np.float32)
        spans = windows(ids, self._full_stops)
        # Similar lengths batch together, so little of each batch is padding.
        order = sorted(range(len(spans)), key=lambda k: spans[k][1] - spans[k][0])
        for first in range(0, len(order), BATCH):
            chosen = order[first : first + BATCH]
            results = self._probabilities([ids[spans[k][0] : spans[k][1]] for k in chosen])
            for k, values in zip(chosen, results, strict=True):
                probs[spans[k][0] : spans[k][1]] = values
        return offsets, probs

    def word_scores(self, text: str, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        offsets, probs = self.token_probabilities(text)
        # A word's score is its first token's: what llmlingua 0.2.2 computes (its "mean"
        # averages copies of the first token's probability), kept so the two agree.
        return merge_to_words(offsets, probs, starts, ends, fill=0.0, first=True)


def merge_to_words(
    offsets: np.ndarray,
    values: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
    fill: float,
    first: bool = False,
) -> np.ndarray:
    """Per word [starts, ends): the mean of its tokens' values, or with `first` its first
    token's; `fill` for a word with none. `values` is (tokens,) or (tokens, features)."""
    shape = (len(starts), *values.shape[1:])
    out = np.full(shape, fill, dtype=np.float64)
    if len(starts) == 0:
        return out
    # By each token's last character: byte-level BPE tokens carry the space before a word
    # (" budget"), so their first character is not inside it.
    last = offsets[:, 1] - 1
    word = np.searchsorted(ends, last, side="right")
    inside = (word < len(starts)) & (offsets[:, 1] > offsets[:, 0])
    inside &= last >= starts[np.minimum(word, len(starts) - 1)]
    word, picked = word[inside], values[inside]
    if len(word) == 0:
        return out
    # Tokens come in text order, so each word's tokens are one run: its first index, and
    # sums by run (np.add.reduceat) rather than token by token.
    run_starts = np.flatnonzero(np.r_[True, word[1:] != word[:-1]])
    words_with_tokens = word[run_starts]
    if first:
        out[words_with_tokens] = picked[run_starts]
        return out
    sums = np.add.reduceat(picked.astype(np.float64), run_starts, axis=0)
    lengths = np.diff(np.r_[run_starts, len(word)]).reshape(-1, *([1] * (len(shape) - 1)))
    out[words_with_tokens] = sums / lengths
    return out
