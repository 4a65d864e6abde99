"""Request and response models of the HTTP API; FastAPI publishes them in /openapi.json.

packages/ml-python/openapi.json is generated from these models (`python -m
tokenflow_ml.openapi_spec`), and the gateway's zod schemas from it (`gen:ml` in
packages/server): change a field or a limit here, then regenerate both.
"""

from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

MAX_TEXT_CHARS = 400_000
MAX_PROMPT_CHARS = 20_000
MAX_CATEGORIES = 32
MAX_CATEGORY_CHARS = 64
MAX_FORCE_TOKENS = 32
MAX_QUESTION_CHARS = 10_000


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must contain text, not only whitespace")
    return value


Category = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_CATEGORY_CHARS)
]


def _not_spaces(value: str) -> str:
    # A newline is a useful forced token (it keeps line structure); spaces alone
    # make llmlingua multiply the spaces in the text.
    if not value.strip(" \t"):
        raise ValueError("must not be only spaces")
    return value


ForceToken = Annotated[str, Field(min_length=1, max_length=32), AfterValidator(_not_spaces)]


class CompressRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)
    ratio: float = Field(
        default=0.5, gt=0, le=1, description="Fraction of tokens to keep (0 < ratio <= 1)."
    )
    target_tokens: int | None = Field(
        default=None, ge=1, le=1_000_000, description="Token budget; overrides ratio when set."
    )
    force_tokens: list[ForceToken] = Field(default_factory=list, max_length=MAX_FORCE_TOKENS)
    force_reserve_digit: bool = False
    drop_consecutive: bool = Field(
        default=False, description="Drop a forced token that repeats right after itself."
    )
    question: str | None = Field(default=None, min_length=1, max_length=MAX_QUESTION_CHARS)
    preserve: bool = Field(
        default=True,
        description="Keep fact spans whole: numbers with their units, dates, identifiers, "
        "paths, URLs, e-mail addresses, code and multi-word names.",
    )

    _text_not_blank = field_validator("text")(_not_blank)


class CompressResponse(BaseModel):
    compressed_text: str
    origin_tokens: int
    compressed_tokens: int
    ratio: float = Field(description="compressed_tokens / origin_tokens")
    saving_percent: float
    method: str
    model: str
    elapsed_ms: float


class ClassifyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prompt: str = Field(min_length=1, max_length=MAX_PROMPT_CHARS)
    possible_categories: list[Category] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_CATEGORIES,
        description="Null means the default set: reasoning, code, function-calling, "
        "text-to-text, creative, general.",
    )
    multi_label: bool = False
    return_embedding: bool = Field(
        default=False,
        description="Also return the prompt's sentence embedding (see the response's "
        "`embedding`), from the same encoder pass that classified it.",
    )

    _prompt_not_blank = field_validator("prompt")(_not_blank)

    @model_validator(mode="after")
    def _unique_categories(self) -> "ClassifyRequest":
        categories = self.possible_categories or []
        if len({c.strip().lower() for c in categories}) != len(categories):
            raise ValueError("possible_categories must not repeat a category")
        return self


class Label(BaseModel):
    label: str
    score: float


class ClassifyResponse(BaseModel):
    labels: list[Label] = Field(description="Every category with its score, best first.")
    top_category: str
    confidence: float
    backend: str
    model: str
    elapsed_ms: float
    embedding: list[float] | None = Field(
        default=None,
        description="The prompt's L2-normalised sentence embedding when return_embedding "
        'was set and the classifier is embedding-based (backend "embedding"); null otherwise: '
        "the NLI backend has none, and a prompt longer than the encoder reads whole (126 "
        "word pieces; a longer one is embedded from its start and end) gets none either.",
    )


class ModelStatus(BaseModel):
    status: str = Field(description="loading, ready or failed")
    backend: str
    model: str
    load_ms: float | None = None
    error: str | None = None


class QueueStatus(BaseModel):
    """One inference queue: how it batches, how much it takes, and what it holds now."""

    max_batch: int = Field(description="Requests one forward pass takes at most.")
    max_waiting: int = Field(
        description="Requests that may wait beyond those running; the next gets 503 at once."
    )
    waiting: int
    running: int


class ReplicaStatus(BaseModel):
    """One Ray Serve deployment (`npm run ml:ray`): its state and its replicas by state."""

    status: str = Field(description="Ray Serve's deployment status, e.g. HEALTHY, UPDATING")
    replicas: dict[str, int] = Field(description="Replicas by state, e.g. {RUNNING: 2}")
    message: str = ""


class Readiness(BaseModel):
    ready: bool
    models: dict[str, ModelStatus]
    queues: dict[str, QueueStatus] = Field(
        default_factory=dict, description="`classify` (batched) and `compress`."
    )
    replicas: dict[str, ReplicaStatus] | None = Field(
        default=None, description="Only on Ray Serve: each deployment and its replicas."
    )


class ErrorBody(BaseModel):
    detail: str
