"""The trained routing head: a calibrated linear classifier over sentence embeddings.

The artefact is one small JSON file, versioned by its format and checked at
load: the encoder that made the embeddings (dimensions and a fingerprint: the
embedding of a fixed sentence), the labels, and a hash over the whole content,
so a head never silently scores embeddings it was not trained on.
"""

import os
import tempfile
import zlib
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..sealed import SealedModel
from .features import LexicalFeatures, unpack

if TYPE_CHECKING:
    from .encoder import Encoder

HEAD_FORMAT: Literal["tokenflow-routing-head/1"] = "tokenflow-routing-head/1"
DEFAULT_HEAD_PATH = Path(__file__).with_name("default_head.json")
FINGERPRINT_TEXT = "TokenFlow routing head: encoder fingerprint sentence."
FINGERPRINT_DIMS = 16
# Embeddings of one sentence differ by ~1e-7 across thread counts; another model by ~1e-1.
FINGERPRINT_TOLERANCE = 1e-3


class HeadError(ValueError):
    """A head that cannot be used with this encoder or these categories."""


class EncoderIdentity(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str = Field(description="The encoder the head was trained on, for messages.")
    dimensions: int = Field(ge=1)
    fingerprint: list[float] = Field(min_length=1, max_length=64)


class TrainingSource(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["default", "routes"]
    files: list[str]
    sha256: str = Field(
        description="Of the data the head was trained on (a routes file: its bytes)."
    )
    examples: int


class TrainingReport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    features: Literal["embedding", "embedding+ngrams"]
    regularisation_c: float
    validation: Literal["split", "cross-validation"]
    validation_accuracy: float
    validation_ece_before: float
    validation_ece_after: float


class LexicalSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    vocabulary: list[str] = Field(description="Character n-grams, in weight-column order.")
    idf: str = Field(description="Packed inverse document frequencies (features.pack).")


class RoutingHead(SealedModel):
    model_config = ConfigDict(extra="forbid")

    format: Literal["tokenflow-routing-head/1"] = HEAD_FORMAT
    encoder: EncoderIdentity
    labels: list[str] = Field(min_length=2)
    embedding_scale: float = Field(gt=0, description="What the embedding is multiplied by.")
    lexical: LexicalSpec | None = None
    weights: str = Field(description="Packed labels x (dimensions + n-grams) matrix.")
    bias: list[float]
    temperature: float = Field(gt=0)
    source: TrainingSource
    training: TrainingReport

    def sealed(self) -> "RoutingHead":
        return self.model_copy(update={"sha256": self.content_hash()})

    def features(self) -> int:
        return self.encoder.dimensions + (len(self.lexical.vocabulary) if self.lexical else 0)

    # Unpacked once: load_head checks the sizes on them, HeadScorer scores with them.
    @cached_property
    def weight_matrix(self) -> np.ndarray:
        values = unpack(self.weights, len(self.labels) * self.features())
        return values.reshape(len(self.labels), self.features())

    @cached_property
    def idf_values(self) -> np.ndarray | None:
        return unpack(self.lexical.idf, len(self.lexical.vocabulary)) if self.lexical else None


class HeadScorer:
    """Logits of the head's labels for a prompt, from its embedding and its text."""

    def __init__(self, head: RoutingHead) -> None:
        self.index = {label: i for i, label in enumerate(head.labels)}
        self.temperature = head.temperature
        self.scale = head.embedding_scale
        weights = head.weight_matrix
        dims = head.encoder.dimensions
        self._dense, self._sparse = weights[:, :dims], weights[:, dims:]
        self._bias = np.asarray(head.bias, dtype=np.float32)
        idf = head.idf_values
        self._lexical = (
            LexicalFeatures(head.lexical.vocabulary, idf)
            if head.lexical is not None and idf is not None
            else None
        )

    def logits(self, embedding: np.ndarray, text: str) -> np.ndarray:
        out = self._dense @ (embedding * self.scale) + self._bias
        if self._lexical is not None:
            columns, values = self._lexical.row(text)
            out = out + self._sparse[:, columns] @ values
        return out


def fingerprint(encoder: "Encoder") -> list[float]:
    """The first dimensions of a fixed sentence's embedding: cheap, and unique to the weights."""
    vector = np.asarray(encoder.encode([FINGERPRINT_TEXT])[0], dtype=np.float64)
    return [round(float(v), 6) for v in vector[:FINGERPRINT_DIMS]]


def save_head(head: RoutingHead, path: Path) -> None:
    """Writes beside the target and renames, so a crash leaves the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = head.sealed().model_dump_json(indent=1) + "\n"
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(temporary, 0o644)  # mkstemp makes it private; a head is not a secret
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


DEFAULT_RETRAIN = "npm run classifier:train"


def load_head(path: Path, retrain: str = DEFAULT_RETRAIN) -> RoutingHead:
    """Reads a head and checks it is whole; `check_head` then checks it fits the encoder.

    `retrain` is the command that makes this head, for the messages.
    """
    try:
        head = RoutingHead.model_validate_json(path.read_bytes())
    except FileNotFoundError:
        raise HeadError(f"no routing head at {path}: train one with `{retrain}`") from None
    except OSError as error:
        raise HeadError(f"cannot read the routing head {path}: {error.strerror}") from None
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise HeadError(
            f"{path} is not a routing head of format {HEAD_FORMAT} ({where}: {first['msg']})"
        ) from None
    if head.sha256 != head.content_hash():
        raise HeadError(
            f"{path} was changed after training (its sha256 does not match): run `{retrain}`"
        )
    try:
        _ = head.weight_matrix, head.idf_values
    except (ValueError, zlib.error) as error:  # binascii.Error is a ValueError
        raise HeadError(
            f"{path}: its weights do not fit its labels and features ({error})"
        ) from None
    if len(head.bias) != len(head.labels):
        raise HeadError(f"{path}: {len(head.bias)} biases for {len(head.labels)} labels")
    return head


def check_head(
    head: RoutingHead,
    *,
    path: Path,
    dimensions: int,
    probe: list[float],
    labels: list[str],
    source_sha256: str | None = None,
    retrain: str = DEFAULT_RETRAIN,
) -> None:
    """Refuses a head made for another encoder, other categories or (with `source_sha256`)
    another version of the routes file it was trained from."""
    if dimensions != head.encoder.dimensions:
        raise HeadError(
            f"{path} was trained on {head.encoder.label} ({head.encoder.dimensions} dimensions), "
            f"but the classifier model gives {dimensions}: train the head again for this model "
            f"(`{retrain}` with the same ML_CLASSIFIER_MODEL), or set ML_ROUTING_HEAD=off"
        )
    drift = max(abs(a - b) for a, b in zip(head.encoder.fingerprint, probe, strict=False))
    if drift > FINGERPRINT_TOLERANCE:
        raise HeadError(
            f"{path} was trained on {head.encoder.label}, and this classifier model embeds "
            f"differently (fingerprint off by {drift:.3g}; another model, or another "
            f"ML_CLASSIFIER_RUNTIME): train the head again with these settings (`{retrain}`), "
            "or set ML_ROUTING_HEAD=off"
        )
    if sorted(head.labels) != sorted(labels):
        raise HeadError(
            f"{path} scores {', '.join(head.labels)}, but the categories served are "
            f"{', '.join(labels)}: train the head again for them (`{retrain}`)"
        )
    if source_sha256 is not None and head.source.sha256 != source_sha256:
        raise HeadError(
            f"{path} was trained on another version of its routes file (the file changed "
            f"since): run `{retrain}`"
        )


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return np.asarray(exp / exp.sum(axis=-1, keepdims=True))
