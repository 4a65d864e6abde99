"""LLMLingua-2's word scores: a token classifier's probability that each word is kept.

The same computation as the llmlingua library (0.2.2): the text in windows of at most
510 model tokens, cut after a full stop; softmax over the two labels; a word's score is
the mean over its tokens. Done faster: the text is tokenized once with offsets, windows
are padded only to the longest of their batch (the library pads every window to 512),
and tokens are merged into words with numpy instead of a Python loop per token.
"""

import numpy as np

WINDOW = 510  # the model's 512 positions less [CLS] and [SEP]
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
        end = start + size - 1  # inclusive: at most `size` tokens
        for j in range(0, end - start):
            if ids[end - j] in full_stop_ids:
                end = end - j
                break
        out.append((start, end + 1))
        start = end + 1
    return out


class TokenClassifierScorer:
    """Scores words with a Transformers token-classification model (torch, CPU)."""

    def __init__(self, model: str, device: str = "cpu") -> None:
        import torch
        from transformers import AutoModelForTokenClassification, AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(model)
        self.model = AutoModelForTokenClassification.from_pretrained(model).to(device).eval()
        self.device = device
        self._torch = torch
        stops = [self.tokenizer.convert_tokens_to_ids(t) for t in (".", "\n")]
        self._full_stops = {i for i in stops if i is not None and i != self.tokenizer.unk_token_id}

    def _probabilities(self, batch: list[list[int]]) -> list[np.ndarray]:
        torch = self._torch
        cls, sep = self.tokenizer.cls_token_id, self.tokenizer.sep_token_id
        pad = self.tokenizer.pad_token_id or 0
        width = max(len(w) for w in batch) + 2
        ids = torch.full((len(batch), width), pad, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for row, window in enumerate(batch):
            ids[row, : len(window) + 2] = torch.tensor([cls, *window, sep])
            mask[row, : len(window) + 2] = 1
        with torch.inference_mode():
            logits = self.model(input_ids=ids.to(self.device), attention_mask=mask.to(self.device))
            probs = torch.softmax(logits.logits.float(), dim=-1)[..., 1].cpu().numpy()
        return [probs[row, 1 : len(window) + 1] for row, window in enumerate(batch)]

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
        return merge_to_words(offsets, probs, starts, ends, fill=0.0)


def merge_to_words(
    offsets: np.ndarray, values: np.ndarray, starts: np.ndarray, ends: np.ndarray, fill: float
) -> np.ndarray:
    """The mean of the token values inside each word [starts, ends); `fill` for a word with none."""
    if len(starts) == 0:
        return np.zeros(0, dtype=np.float64)
    # By each token's last character: byte-level BPE tokens carry the space before a word
    # (" budget"), so their first character is not inside it.
    last = offsets[:, 1] - 1
    word = np.searchsorted(ends, last, side="right")
    inside = (word < len(starts)) & (offsets[:, 1] > offsets[:, 0])
    inside &= last >= starts[np.minimum(word, len(starts) - 1)]
    sums = np.bincount(word[inside], weights=values[inside], minlength=len(starts))
    counts = np.bincount(word[inside], minlength=len(starts))
    out = np.full(len(starts), fill, dtype=np.float64)
    np.divide(sums, counts, out=out, where=counts > 0)
    return out
