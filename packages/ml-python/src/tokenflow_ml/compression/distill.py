"""`npm run compressor:train`: fits the offline default's word scorer (distilled.py).

    npm run compressor:train -- [--out PATH] [--tokens 60000]

The teacher is the perplexity method: SmolLM2-135M scores every word of a corpus by its
surprisal. The student is a ridge regression from MiniLM's states of the word to the
teacher's rank of it within its text (0 = least surprising). Only ranks matter: both the
teacher and the student feed the same budgeted selection, which keeps the best-ranked.

The corpus is in the repository, so training needs no network: the routing training
prompts (data/routing/train.jsonl, in all its languages and kinds), a dozen to a text,
and the compression development documents (data/compression/dev). Agreement is measured
on held-out text: the routing validation prompts, grouped the same way.
"""

import argparse
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .distilled import DEFAULT_HEAD, DistilledHead, MiniLMStates, word_features
from .layout import WORD
from .library import keep_agreement

if TYPE_CHECKING:
    from .methods import LLMLinguaCompressor

DATA = Path(__file__).resolve().parents[3] / "data"
PROMPTS_PER_TEXT = 12
RIDGE = 10.0  # chosen on the held-out agreement; from 1 to 100 it moves less than a point

log = logging.getLogger("tokenflow_ml.compression")


def prompt_texts(path: Path) -> list[str]:
    prompts = [json.loads(line)["prompt"] for line in path.read_text().splitlines() if line]
    return [
        "\n\n".join(prompts[i : i + PROMPTS_PER_TEXT])
        for i in range(0, len(prompts), PROMPTS_PER_TEXT)
    ]


def corpus(limit_tokens: int, held_out_texts: int) -> tuple[list[str], list[str]]:
    documents = [
        json.loads(line)["text"]
        for path in sorted((DATA / "compression" / "dev").glob("*.jsonl"))
        for line in path.read_text().splitlines()
        if line
    ]
    train = documents + prompt_texts(DATA / "routing" / "train.jsonl")
    held_out = prompt_texts(DATA / "routing" / "validation.jsonl")[:held_out_texts]
    kept, words = [], 0
    for text in train:
        if words > limit_tokens * 0.75:  # about four words to three tokens
            break
        kept.append(text)
        words += len(text.split())
    return kept, held_out


def ranks(values: np.ndarray) -> np.ndarray:
    order = np.argsort(np.argsort(values, kind="stable"), kind="stable")
    return order / max(1, len(values) - 1)


def fit(
    teacher: "LLMLinguaCompressor", student: MiniLMStates, texts: list[str]
) -> tuple[np.ndarray, float, int]:
    features, targets = [], []
    for text in texts:
        spans = [m.span() for m in WORD.finditer(text)]
        starts = np.asarray([a for a, _ in spans])
        ends = np.asarray([b for _, b in spans])
        features.append(word_features(student, text, starts, ends))
        targets.append(ranks(teacher.word_scores(text, starts, ends)))
    x, y = np.vstack(features), np.concatenate(targets)
    mean_x, mean_y = x.mean(0), y.mean()
    xc = x - mean_x
    weights = np.linalg.solve(xc.T @ xc + RIDGE * np.eye(x.shape[1]), xc.T @ (y - mean_y))
    return weights, float(mean_y - mean_x @ weights), len(y)


def agreement(
    teacher: "LLMLinguaCompressor",
    student: MiniLMStates,
    weights: np.ndarray,
    bias: float,
    texts: list[str],
) -> float:
    shares = []
    for text in texts:
        spans = [m.span() for m in WORD.finditer(text)]
        starts = np.asarray([a for a, _ in spans])
        ends = np.asarray([b for _, b in spans])
        ours = word_features(student, text, starts, ends) @ weights + bias
        theirs = teacher.word_scores(text, starts, ends)
        shares.append(keep_agreement(list(ours), list(theirs)))
    return float(np.mean(shares))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="npm run compressor:train --")
    parser.add_argument("--out", type=Path, default=DEFAULT_HEAD)
    parser.add_argument("--tokens", type=int, default=30_000, help="corpus size, GPT tokens")
    parser.add_argument("--held-out", type=int, default=12, help="texts to measure agreement on")
    args = parser.parse_args(argv)

    from ..local_model import local_model_path
    from ..settings import Settings, bundled_minilm
    from .methods import LLMLinguaCompressor

    smollm2, minilm = local_model_path(), bundled_minilm()
    if smollm2 is None or minilm is None:
        print("SmolLM2 or MiniLM is missing: run `npm start` or `npm run setup` first")
        return 1
    started = time.monotonic()
    train, held_out = corpus(args.tokens, args.held_out)
    teacher = LLMLinguaCompressor(smollm2)
    student = MiniLMStates(minilm, Settings().torch_threads)
    weights, bias, words = fit(teacher, student, train)
    share = agreement(teacher, student, weights, bias, held_out)
    head = DistilledHead(
        encoder=Path(minilm).parent.name,
        dimensions=student.dimensions,
        weights=[round(float(w), 7) for w in weights],
        bias=round(bias, 7),
        agreement=round(share, 4),
        training_words=words,
    )
    head = head.model_copy(update={"sha256": head.content_hash()})
    args.out.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{args.out.name}.", dir=args.out.parent)
    with os.fdopen(handle, "w") as file:
        file.write(head.model_dump_json(indent=1) + "\n")
    os.replace(temporary, args.out)
    print(
        f"trained on {len(train)} texts ({words} words) in {time.monotonic() - started:.0f} s; "
        f"keep/drop agreement with SmolLM2 at ratio 0.5 on held-out text: {share:.1%}; "
        f"wrote {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
