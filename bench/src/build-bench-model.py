"""Builds a model with a production model's shape and random weights, for timing.

Speed depends on the shape, not the weights. The tokenizer is the tests' small
WordPiece one (whole words for the sample text's vocabulary, digits one by one),
so the timings are for the real architecture at close to the real token counts.

    python bench/src/build-bench-model.py nli-large DIR    # facebook/bart-large-mnli's shape
    python bench/src/build-bench-model.py mbert-base DIR   # LLMLingua-2's bert-base-multilingual-cased
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "packages" / "ml-python" / "tests"))

from tiny_models import build_llmlingua2, build_nli

BUILDERS = {
    "nli-large": lambda target: build_nli(target, large=True),
    "mbert-base": lambda target: build_llmlingua2(target, base=True),
}

if __name__ == "__main__":
    kind, target = sys.argv[1], Path(sys.argv[2])
    if kind not in BUILDERS:
        sys.exit(f"unknown model kind {kind!r}; one of {', '.join(BUILDERS)}")
    if not (target / "config.json").exists():
        BUILDERS[kind](target)
    print(target)
