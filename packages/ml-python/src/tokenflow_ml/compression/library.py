"""The llmlingua library itself, as the baseline the bench and the agreement tests compare with.

The service no longer calls it; pipeline.py does what it did, keeping facts and structure.
"""

from .pipeline import prepare_tiktoken


def library_compressor(model: str, llmlingua2: bool, device: str = "cpu"):
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

    def __init__(self, model) -> None:
        self._model = model

    def __getattr__(self, name: str):
        return getattr(self._model, name)

    def __call__(self, *args, past_key_values=None, **kwargs):
        from transformers import DynamicCache

        if isinstance(past_key_values, list | tuple):
            past_key_values = DynamicCache.from_legacy_cache(
                tuple((key, value) for key, value in past_key_values)
            )
        output = self._model(*args, past_key_values=past_key_values, **kwargs)
        if isinstance(output.past_key_values, DynamicCache):
            output.past_key_values = output.past_key_values.to_legacy_cache()
        return output
