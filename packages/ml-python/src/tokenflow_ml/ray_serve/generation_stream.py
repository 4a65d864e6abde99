"""What the generator deployment streams to the ingress, in order: Started (or the
caller's error, raised), the text pieces, then the final GenerationResult."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Started:
    prompt_tokens: int
