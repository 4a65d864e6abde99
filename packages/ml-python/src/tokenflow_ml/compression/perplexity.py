"""Token surprisal, the score of LLMLingua (Jiang et al., 2023).

A small causal LM scores each token by its surprisal, -log p(token | text before it);
the least surprising words carry the least information and are dropped first
(pipeline.py does the dropping, the same way for every method).
"""

import math


def token_surprisal(model, tokenizer, text: str, window: int = 1024, context: int = 256):
    """(offsets, surprisal) per token of `text`, in windows that see `context` tokens before."""
    import torch

    encoded = tokenizer(text, return_offsets_mapping=True, add_special_tokens=False)
    ids: list[int] = encoded["input_ids"]
    offsets: list[tuple[int, int]] = encoded["offset_mapping"]
    surprisal = [math.inf] * len(ids)  # the first token has nothing before it: always keep
    for start in range(1, len(ids), window):
        begin = max(0, start - context)
        end = min(len(ids), start + window)
        with torch.inference_mode():
            logits = model(torch.tensor([ids[begin:end]], device=model.device)).logits[0]
        log_probs = torch.log_softmax(logits.float(), dim=-1)
        for i in range(start, end):
            surprisal[i] = -float(log_probs[i - begin - 1, ids[i]])
    return offsets, surprisal
