"""Token surprisal, the score of LLMLingua (Jiang et al., 2023).

A small causal LM scores each token by its surprisal, -log p(token | text before it);
the least surprising words carry the least information and are dropped first
(pipeline.py does the dropping, the same way for every method).
"""

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase


def token_surprisal(
    model: "PreTrainedModel",
    tokenizer: "PreTrainedTokenizerBase",
    text: str,
    window: int = 1024,
    context: int = 256,
) -> tuple[list[tuple[int, int]], np.ndarray]:
    """(offsets, surprisal) per token of `text`, in windows that see `context` tokens before."""
    import torch

    encoded = tokenizer(text, return_offsets_mapping=True, add_special_tokens=False)
    ids: list[int] = encoded["input_ids"]
    offsets: list[tuple[int, int]] = encoded["offset_mapping"]
    surprisal = np.full(len(ids), np.inf)  # the first token has nothing before it: always keep
    tokens = torch.tensor(ids, device=model.device)
    for start in range(1, len(ids), window):
        begin = max(0, start - context)
        end = min(len(ids), start + window)
        with torch.inference_mode():
            logits = model(tokens[None, begin:end]).logits[0]
            log_probs = torch.log_softmax(logits.float(), dim=-1)
            # Token i is predicted at position i - 1: one gather instead of a loop per token.
            predicted = log_probs[start - begin - 1 : end - begin - 1]
            picked = predicted.gather(1, tokens[start:end, None])[:, 0]
        surprisal[start:end] = -picked.cpu().numpy()
    return offsets, surprisal
