"""The subset of OpenAI's Chat Completions API the local model serves."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

MAX_MESSAGE_CHARS = 100_000
# Transformers prepares each stop string in time that grows with its length.
StopString = Annotated[str, Field(min_length=1, max_length=64)]


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: Literal["system", "user", "assistant"]
    content: str = Field(max_length=MAX_MESSAGE_CHARS)


class StreamOptions(BaseModel):
    include_usage: bool = False


class ChatCompletionRequest(BaseModel):
    # OpenAI clients send many optional fields (seed, user, ...): ignore what we do not use.
    model_config = ConfigDict(extra="ignore")

    model: str = Field(min_length=1, max_length=200)
    messages: list[ChatMessage] = Field(min_length=1, max_length=200)
    stream: bool = False
    stream_options: StreamOptions | None = None
    # The model's context bounds the rest (checked against the prompt's length).
    max_tokens: int | None = Field(default=None, ge=1, le=32_768)
    max_completion_tokens: int | None = Field(default=None, ge=1, le=32_768)
    temperature: float = Field(default=1.0, ge=0, le=2)
    top_p: float = Field(default=1.0, gt=0, le=1)
    stop: StopString | Annotated[list[StopString], Field(max_length=4)] | None = None
    n: Literal[1] = 1
    # Read only to refuse them: SmolLM2 cannot call tools or follow a schema, and ignoring
    # them would answer a question the caller did not ask.
    tools: list[dict[str, object]] | None = Field(default=None, max_length=128)
    response_format: dict[str, object] | None = None

    @model_validator(mode="after")
    def _plain_text_only(self) -> "ChatCompletionRequest":
        if self.tools:
            raise ValueError("the local model cannot call tools: send no tools")
        if self.response_format and self.response_format.get("type") not in (None, "text"):
            raise ValueError("the local model answers text only: response_format must be text")
        return self

    def token_limit(self, default: int) -> int:
        return self.max_completion_tokens or self.max_tokens or default

    def stop_list(self) -> list[str]:
        if self.stop is None:
            return []
        return [self.stop] if isinstance(self.stop, str) else self.stop


def _absent(value: object) -> bool:
    return value is None


# What the service answers, in the shapes OpenAI's SDKs parse.


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class CompletionChoice(BaseModel):
    index: int = 0
    message: AssistantMessage
    finish_reason: str


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[CompletionChoice]
    usage: Usage


class ChoiceDelta(BaseModel):
    # Only what a chunk adds: the first names the role, the last (finish_reason) adds nothing.
    role: Literal["assistant"] | None = Field(default=None, exclude_if=_absent)
    content: str | None = Field(default=None, exclude_if=_absent)


class ChunkChoice(BaseModel):
    index: int = 0
    delta: ChoiceDelta
    finish_reason: str | None = None


class ChatCompletionChunk(BaseModel):
    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    choices: list[ChunkChoice]
    # Only on the extra last chunk that stream_options.include_usage asks for.
    usage: Usage | None = Field(default=None, exclude_if=_absent)


class ErrorDetail(BaseModel):
    message: str
    type: str
    code: str
    # Sent only when a request names the field at fault (none does yet).
    param: str | None = Field(default=None, exclude_if=_absent)


class ErrorResponse(BaseModel):
    """OpenAI's error body, as the gateway sends it too (server/src/http/openai/errors.ts)."""

    error: ErrorDetail

    @classmethod
    def of(cls, message: str, kind: str, code: str) -> "ErrorResponse":
        return cls(error=ErrorDetail(message=message, type=kind, code=code))


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "tokenflow"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]
