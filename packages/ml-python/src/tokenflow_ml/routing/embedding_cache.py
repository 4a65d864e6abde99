"""Training-time embeddings kept between runs, keyed by the encoder and each text.

Embedding the default data is most of `classifier:train`'s time (about 45 s of
it on two cores): with this cache, a run after editing a few prompts embeds
only those. A cache for another encoder never matches (the key holds its
fingerprint), and a broken cache file is ignored and written again.
"""

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..settings import PACKAGE_ROOT
from .clipping import HEAD_TOKENS, TAIL_TOKENS
from .head import fingerprint

if TYPE_CHECKING:
    from .encoder import Encoder

CACHE_DIR = PACKAGE_ROOT / ".cache" / "routing-embeddings"


def _key(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def cached_embeddings(
    encoder: "Encoder", texts: list[str], cache_dir: Path = CACHE_DIR
) -> np.ndarray:
    # What the encoder sees of a long text is part of what it gives back.
    clipping = [HEAD_TOKENS, TAIL_TOKENS, getattr(encoder, "max_tokens", None)]
    identity = json.dumps([fingerprint(encoder), clipping])
    path = cache_dir / f"{hashlib.sha256(identity.encode()).hexdigest()[:16]}.npz"
    known: dict[str, np.ndarray] = {}
    try:
        with np.load(path) as stored:
            known = dict(zip(stored["keys"].tolist(), stored["vectors"], strict=True))
    except (OSError, ValueError, KeyError):
        pass  # no cache yet, or an unreadable one: embed everything
    keys = [_key(text) for text in texts]
    missing = [i for i, key in enumerate(keys) if key not in known]
    if missing:
        for i, vector in zip(missing, encoder.encode([texts[i] for i in missing]), strict=True):
            known[keys[i]] = vector
        cache_dir.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".embeddings.", suffix=".npz", dir=cache_dir)
        os.close(handle)
        try:
            np.savez(temporary, keys=np.array(list(known)), vectors=np.stack(list(known.values())))
            os.replace(temporary, path)
        finally:
            Path(temporary).unlink(missing_ok=True)
    return np.stack([known[key] for key in keys])
