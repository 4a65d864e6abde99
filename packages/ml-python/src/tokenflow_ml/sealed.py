"""A model file that carries the hash of its own contents, so a hand-edited or truncated
file is refused at load instead of scoring garbage (the routing head, the distilled
compression head)."""

import hashlib
import json

from pydantic import BaseModel


class SealedModel(BaseModel):
    sha256: str = ""

    def content_hash(self) -> str:
        body = self.model_dump(exclude={"sha256"})
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
