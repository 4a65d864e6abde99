"""The offline default's word scorer: MiniLM token states and a linear head distilled from
SmolLM2's surprisal (the perplexity method), at a small share of its cost.

SmolLM2 reads 2,000 tokens in seconds on two cores; MiniLM, the encoder the router already
loads (the same int8 ONNX graph), reads them in a fraction of a second. The head maps each
word's MiniLM states (its first token's and the mean of its tokens') to where SmolLM2 ranks
the word's surprisal within its text; `npm run compressor:train` fits it (distill.py).
"""

from pathlib import Path

import numpy as np
from pydantic import ConfigDict, Field

from ..onnx_models import onnx_session
from ..sealed import SealedModel
from ..settings import models_dir
from .token_classifier import merge_to_words

HEAD_FORMAT = "tokenflow-compression-head/1"
DEFAULT_HEAD = Path(__file__).with_name("distilled_head.json")
RETRAIN = "npm run compressor:train"
WINDOW = 254  # MiniLM reads 256 positions: [CLS] + 254 + [SEP]
BATCH = 8


class HeadError(ValueError):
    pass


class DistilledHead(SealedModel):
    model_config = ConfigDict(extra="forbid")

    format: str = HEAD_FORMAT
    encoder: str = Field(description="The encoder folder's name, e.g. all-MiniLM-L6-v2's.")
    dimensions: int
    weights: list[float]
    bias: float
    # Measured at training: the student's keep/drop agreement with SmolLM2 at ratio 0.5 on
    # held-out text.
    agreement: float
    training_words: int


def load_distilled_head(path: Path, dimensions: int) -> DistilledHead:
    try:
        head = DistilledHead.model_validate_json(path.read_bytes())
    except FileNotFoundError:
        raise HeadError(f"no compression head at {path}: train one with `{RETRAIN}`") from None
    except ValueError as error:
        raise HeadError(f"{path} is not a {HEAD_FORMAT} file: {error}") from None
    if head.sha256 != head.content_hash():
        raise HeadError(f"{path} was changed after training: run `{RETRAIN}`")
    if head.dimensions != dimensions or len(head.weights) != 2 * dimensions:
        raise HeadError(
            f"{path} was trained on {head.dimensions}-dimensional states, the encoder gives "
            f"{dimensions}: run `{RETRAIN}`"
        )
    return head


class MiniLMStates:
    """Per-token hidden states of the sentence encoder (before its pooling), in windows."""

    def __init__(self, model: str, threads: int) -> None:
        from transformers import AutoTokenizer

        folder = Path(model)
        self.tokenizer = AutoTokenizer.from_pretrained(folder)
        # The routing encoder's graph: exported (and quantised) once, shared by both.
        self.session = onnx_session(
            folder,
            models_dir() / "onnx",
            head="AutoModel",
            output="last_hidden_state",
            quantized=True,
            threads=threads,
        )
        self.inputs = [i.name for i in self.session.get_inputs()]
        self.dimensions = int(self.session.get_outputs()[0].shape[-1])

    def states(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """(char offsets (n, 2), states (n, dimensions)) of each token of `text`."""
        encoded = self.tokenizer(
            text, add_special_tokens=False, return_offsets_mapping=True, verbose=False
        )
        ids = np.asarray(encoded["input_ids"], dtype=np.int64)
        offsets = np.asarray(encoded["offset_mapping"], dtype=np.int64).reshape(-1, 2)
        out = np.zeros((len(ids), self.dimensions), dtype=np.float32)
        spans = [(s, min(s + WINDOW, len(ids))) for s in range(0, len(ids), WINDOW)]
        cls, sep = self.tokenizer.cls_token_id, self.tokenizer.sep_token_id
        for first in range(0, len(spans), BATCH):
            chosen = spans[first : first + BATCH]
            width = max(b - a for a, b in chosen) + 2
            batch = np.zeros((len(chosen), width), dtype=np.int64)
            mask = np.zeros_like(batch)
            for row, (a, b) in enumerate(chosen):
                batch[row, : b - a + 2] = [cls, *ids[a:b], sep]
                mask[row, : b - a + 2] = 1
            feed = {"input_ids": batch, "attention_mask": mask}
            if "token_type_ids" in self.inputs:
                feed["token_type_ids"] = np.zeros_like(batch)
            hidden = self.session.run(None, feed)[0]
            for row, (a, b) in enumerate(chosen):
                out[a:b] = hidden[row, 1 : b - a + 1]
        return offsets, out


def word_features(
    states: MiniLMStates, text: str, starts: np.ndarray, ends: np.ndarray
) -> np.ndarray:
    """Per word: its first token's state and the mean of its tokens' states."""
    offsets, hidden = states.states(text)
    first = merge_to_words(offsets, hidden, starts, ends, 0.0, first=True)
    mean = merge_to_words(offsets, hidden, starts, ends, 0.0)
    return np.hstack([first, mean])


class DistilledScorer:
    def __init__(self, model: str, head: Path = DEFAULT_HEAD, threads: int = 1) -> None:
        self.states = MiniLMStates(model, threads)
        loaded = load_distilled_head(head, self.states.dimensions)
        self._weights = np.asarray(loaded.weights)
        self._bias = loaded.bias

    def word_scores(self, text: str, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        features = word_features(self.states, text, starts, ends)
        return np.asarray(features @ self._weights + self._bias)
