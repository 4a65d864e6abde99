"""The llmlingua library itself, as the baseline the bench and the agreement tests compare with.

The service no longer calls it; pipeline.py does what it did, keeping facts and structure.
"""

from typing import TYPE_CHECKING, Any

from .pipeline import prepare_tiktoken

if TYPE_CHECKING:
    from .token_classifier import TokenClassifierScorer


# llmlingua has no type hints: its PromptCompressor is Any to mypy.
def library_compressor(model: str, llmlingua2: bool, device: str = "cpu") -> Any:
    """llmlingua's PromptCompressor on `model`, runnable on current Transformers."""
    prepare_tiktoken()
    from llmlingua import PromptCompressor

    compressor = PromptCompressor(model_name=model, use_llmlingua2=llmlingua2, device_map=device)
    if not llmlingua2:
        compressor.model = LegacyCacheModel(compressor.model)
    return compressor


class LegacyCacheModel:
    """Lets llmlingua 0.2.2's perplexity loop run on current Transformers.

    llmlingua slices the key/value cache as nested lists and passes them back;
    current models take a Cache object. This converts at the model boundary and
    otherwise behaves like the wrapped model.
    """

    def __init__(self, model: Any) -> None:
        self._model = model

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)

    def __call__(self, *args: Any, past_key_values: Any = None, **kwargs: Any) -> Any:
        from transformers import DynamicCache

        if isinstance(past_key_values, list | tuple):
            past_key_values = DynamicCache.from_legacy_cache(
                # transformers hints a 1-tuple of layers; it takes any number.
                tuple((key, value) for key, value in past_key_values)  # type: ignore[arg-type]
            )
        output = self._model(*args, past_key_values=past_key_values, **kwargs)
        if isinstance(output.past_key_values, DynamicCache):
            output.past_key_values = output.past_key_values.to_legacy_cache()
        return output


def library_word_probabilities(compressor: Any, text: str) -> list[float]:
    """The library's own LLMLingua-2 word scores for `text`: its chunking, its dataset
    (every window padded to 512), its forward pass and its word merge. Its
    `__get_context_prob` averages them away, so its steps are called one by one here."""
    import torch
    from llmlingua.utils import TokenClfDataset

    chunks = compressor._PromptCompressor__chunk_context(text, chunk_end_tokens=[".", "\n"])
    dataset = TokenClfDataset(
        chunks,
        tokenizer=compressor.tokenizer,
        max_len=compressor.max_seq_len,
        model_name=compressor.model_name,
    )
    merge = compressor._PromptCompressor__merge_token_to_word
    words: list[float] = []
    with torch.no_grad():
        for item in dataset:
            ids, mask = item["ids"][None], item["mask"][None] == 1
            logits = compressor.model(input_ids=ids, attention_mask=mask).logits
            probs = torch.softmax(logits, dim=-1)[0, :, 1]
            active = torch.masked_select(ids[0], mask[0]).tolist()
            tokens = compressor.tokenizer.convert_ids_to_tokens(active)
            token_probs = torch.masked_select(probs, mask[0]).numpy().tolist()
            _, _, per_word = merge(tokens, token_probs, [], {}, False)
            words += [sum(p) / len(p) for p in per_word]
    return words


def bert_word_probabilities(scorer: "TokenClassifierScorer", text: str) -> list[float]:
    """Our scorer's token probabilities merged into the library's words (a token and the
    "##" pieces after it, as its mBERT rule does; scored by the first), so the two can be
    compared word by word."""
    _, probs = scorer.token_probabilities(text)
    ids = scorer.tokenizer(text, add_special_tokens=False)["input_ids"]
    words: list[list[float]] = []
    for token, prob in zip(scorer.tokenizer.convert_ids_to_tokens(ids), probs, strict=True):
        if token.startswith("##") and words:
            words[-1].append(float(prob))
        else:
            words.append([float(prob)])
    return [w[0] for w in words]


def keep_agreement(ours: list[float], theirs: list[float], rate: float = 0.5) -> float:
    """Share of words both keep or both drop when each keeps its top `rate` of words
    (the library's rule: above the (1 - rate) percentile of its own scores)."""
    import numpy as np

    if len(ours) != len(theirs):
        raise ValueError(f"{len(ours)} words against the library's {len(theirs)}")
    a, b = np.asarray(ours), np.asarray(theirs)
    keep_a = a > np.percentile(a, 100 * (1 - rate))
    keep_b = b > np.percentile(b, 100 * (1 - rate))
    return float((keep_a == keep_b).mean())
