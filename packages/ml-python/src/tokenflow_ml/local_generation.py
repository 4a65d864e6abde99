"""Text generation with the local SmolLM2 model, token by token."""

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import torch
    from transformers import TextIteratorStreamer

# What generate() takes from the tokenizer's output.
MODEL_INPUTS = ("input_ids", "attention_mask")


class ContextTooLong(ValueError):
    """The prompt plus max_tokens does not fit in the model's context."""


class UnusableStop(ValueError):
    """No stop string can be matched against the model's vocabulary."""


@dataclass
class GenerationRequest:
    messages: list[dict[str, str]]
    max_tokens: int
    temperature: float
    top_p: float
    stop: list[str]


@dataclass
class GenerationResult:
    """Filled in while the generation runs; final once the text iterator is exhausted."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: str = "stop"
    cancelled: bool = False
    #: Set when a stop string ended the text (the model is then stopped on purpose).
    stop_hit: bool = False
    error: str | None = None

    @property
    def final_reason(self) -> str:
        # A stop string found in the last allowed token is still a stop, not a cut.
        return "stop" if self.stop_hit else self.finish_reason


class ChatModel(Protocol):
    """What /v1 needs of a chat model: LocalGenerator here, or a Ray Serve replica's proxy."""

    model: str
    model_id: str

    def generate(
        self, request: GenerationRequest, cancel: threading.Event
    ) -> tuple[Iterator[str], GenerationResult, "Joinable"]: ...


class Joinable(Protocol):
    def join(self, timeout: float | None = None) -> None: ...


class LocalGenerator:
    """A causal LM with a chat template (SmolLM2-135M-Instruct by default)."""

    def __init__(self, model: str, model_id: str, device: str = "cpu") -> None:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.model = model
        self.model_id = model_id
        self._device = device
        self._tokenizer = AutoTokenizer.from_pretrained(model)
        # transformers hints the decorated from_pretrained as taking the model class first.
        self._model = AutoModelForCausalLM.from_pretrained(model).to(device)  # type: ignore[arg-type]
        self._model.eval()

    def generate(
        self, request: GenerationRequest, cancel: threading.Event
    ) -> tuple[Iterator[str], GenerationResult, threading.Thread]:
        """Starts generating on a thread; yields text pieces as they are decoded.

        Setting `cancel` stops the model after its current token.
        """
        import torch
        from transformers import (
            StoppingCriteria,
            StoppingCriteriaList,
            StopStringCriteria,
            TextIteratorStreamer,
        )

        tokenizer = self._tokenizer
        inputs = tokenizer.apply_chat_template(
            request.messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
        )
        prompt_tokens = int(inputs["input_ids"].shape[1])
        context = int(getattr(self._model.config, "max_position_embeddings", 0) or 0)
        if context and prompt_tokens + request.max_tokens > context:
            raise ContextTooLong(
                f"the prompt ({prompt_tokens} tokens) plus max_tokens ({request.max_tokens}) "
                f"exceeds the model's {context}-token context"
            )
        # Some tokenizers also return token_type_ids, which a causal LM's generate() refuses.
        inputs = {k: v.to(self._device) for k, v in inputs.items() if k in MODEL_INPUTS}
        result = GenerationResult(prompt_tokens=prompt_tokens)
        streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)

        class Cancelled(StoppingCriteria):
            def __call__(
                self, input_ids: "torch.LongTensor", scores: "torch.FloatTensor", **kwargs: object
            ) -> bool:
                return cancel.is_set()

        criteria = StoppingCriteriaList([Cancelled()])
        if request.stop:
            # Built here, not by generate() on its thread: a stop string made only of
            # characters the vocabulary lacks is the caller's error (400), not a failed run.
            try:
                criteria.append(StopStringCriteria(tokenizer, request.stop))
            except ValueError as error:
                raise UnusableStop(f"stop: {error}") from error

        sample = request.temperature > 0
        options = {
            **inputs,
            "max_new_tokens": request.max_tokens,
            "do_sample": sample,
            "streamer": streamer,
            "stopping_criteria": criteria,
            "pad_token_id": tokenizer.eos_token_id,
        }
        if sample:
            options.update(temperature=request.temperature, top_p=request.top_p)

        def run() -> None:
            try:
                with torch.inference_mode():
                    output = self._model.generate(**options)
            except Exception as error:  # reported to the caller; the text iterator must still end
                result.error = f"{type(error).__name__}: {error}"
                streamer.end()
                return
            generated = output[0][prompt_tokens:]
            result.completion_tokens = int(generated.shape[0])
            ended_on_eos = (
                result.completion_tokens > 0 and int(generated[-1]) == tokenizer.eos_token_id
            )
            if cancel.is_set() and not result.stop_hit:
                result.cancelled = True
                result.finish_reason = "cancelled"
            elif result.completion_tokens >= request.max_tokens and not ended_on_eos:
                result.finish_reason = "length"

        thread = threading.Thread(target=run, name="generate", daemon=True)
        thread.start()
        return self._pieces(streamer, request.stop, cancel, result), result, thread

    @staticmethod
    def _pieces(
        streamer: "TextIteratorStreamer",
        stop: list[str],
        cancel: threading.Event,
        result: GenerationResult,
    ) -> Iterator[str]:
        # The model stops at a stop string, but the string itself must not be sent.
        text = ""
        sent = 0
        for piece in streamer:
            text += piece
            cut = min((i for i in (text.find(s) for s in stop) if i >= 0), default=-1)
            if cut >= 0:
                if cut > sent:
                    yield text[sent:cut]
                result.stop_hit = True
                cancel.set()
                for _ in streamer:  # drain, so the generation thread can finish
                    pass
                return
            # Hold back a tail that could be the start of a stop string.
            hold = max((len(s) - 1 for s in stop), default=0)
            ready = len(text) - hold
            if ready > sent:
                yield text[sent:ready]
                sent = ready
        if len(text) > sent:
            yield text[sent:]
