"""Builds an NLI model shaped like facebook/bart-large-mnli with random weights, for timing.

Speed depends on the shape, not the weights. The tokenizer is the tests' small
WordPiece one, so texts split into more tokens than with BART's own BPE: the
timings err on the slow side.

    python bench/src/build-nli-large.py DIR
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "packages" / "ml-python" / "tests"))

from tiny_models import build_nli

if __name__ == "__main__":
    target = Path(sys.argv[1])
    if not (target / "config.json").exists():
        build_nli(target, large=True)
    print(target)
