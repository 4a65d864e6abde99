"""`npm run compression:eval`: how many facts survive compression, and how close the size is.

    npm run compression:eval -- [--split dev|test] [--ratio 0.5 0.3] [--method llmlingua2]
                                 [--model PATH] [--no-preserve] [--question] [--show ID]

Reads data/compression/<split>/*.jsonl (documents with the facts a reader must still
find, see data/compression/README.md) and compresses each in this process with the
service's own code. A fact survives if it appears verbatim in the result (runs of
whitespace count as one space).
"""

import argparse
import json
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..schemas import CompressRequest
from .methods import Compressor

DATA = Path(__file__).resolve().parents[3] / "data" / "compression"
SPACES = re.compile(r"\s+")


class EvalDocument(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=80)
    kind: str = Field(min_length=1, max_length=40)
    language: str = Field(pattern=r"^[a-z]{2}$")
    text: str = Field(min_length=200, max_length=40_000)
    facts: list[str] = Field(min_length=1, max_length=30)
    question: str = Field(min_length=5, max_length=1000)

    @model_validator(mode="after")
    def _facts_are_in_the_text(self) -> "EvalDocument":
        missing = [fact for fact in self.facts if fact not in self.text]
        if missing:
            raise ValueError(f"facts not verbatim in the text: {missing}")
        return self


class DataError(ValueError):
    pass


def read_documents(split: str) -> list[EvalDocument]:
    files = sorted((DATA / split).glob("*.jsonl"))
    if not files:
        raise DataError(f"no *.jsonl files in {DATA / split}")
    documents = []
    for path in files:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                documents.append(EvalDocument.model_validate_json(line))
            except ValidationError as error:
                raise DataError(f"{path}:{number}: {error}") from None
    return documents


def survives(fact: str, text: str) -> bool:
    return SPACES.sub(" ", fact) in SPACES.sub(" ", text)


def evaluate(
    compressor: Compressor,
    documents: list[EvalDocument],
    ratio: float,
    preserve: bool,
    question: bool,
) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    for doc in documents:
        request = CompressRequest(
            text=doc.text,
            ratio=ratio,
            preserve=preserve,
            question=doc.question if question else None,
        )
        started = time.perf_counter()
        result = compressor.compress(request)
        seconds = time.perf_counter() - started
        kept = [f for f in doc.facts if survives(f, result.compressed_text)]
        rows.append(
            {
                "id": doc.id,
                "language": doc.language,
                "facts": len(doc.facts),
                "kept": len(kept),
                "lost": [f for f in doc.facts if f not in kept],
                "ratio": result.compressed_tokens / result.origin_tokens,
                "origin_tokens": result.origin_tokens,
                "seconds": seconds,
                "text": result.compressed_text,
            }
        )
    facts = sum(r["facts"] for r in rows)
    facts_kept = sum(r["kept"] for r in rows)
    errors = [abs(r["ratio"] / ratio - 1) for r in rows]
    tokens = sum(r["origin_tokens"] for r in rows)
    return {
        "ratio_asked": ratio,
        "facts": facts,
        "facts_kept": facts_kept,
        "fact_share": facts_kept / facts,
        "median_ratio_error": statistics.median(errors),
        "max_ratio_error": max(errors),
        "tokens_per_second": tokens / sum(r["seconds"] for r in rows),
        "documents": rows,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="npm run compression:eval --")
    parser.add_argument("--split", default="dev", choices=["dev", "test"])
    parser.add_argument("--ratio", type=float, nargs="+", default=[0.5, 0.3])
    parser.add_argument("--method", choices=["distilled", "llmlingua", "llmlingua2"])
    parser.add_argument("--model")
    parser.add_argument("--no-preserve", action="store_true")
    parser.add_argument("--question", action="store_true")
    parser.add_argument("--show", help="print this document's compressed text")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    from ..settings import Settings
    from .methods import create_compressor

    settings = Settings()
    method = args.method or settings.compressor_backend
    model = args.model or (
        settings.compressor_model_id() if method == settings.compressor_backend else None
    )
    if model is None:
        sys.exit("--model is needed for a method other than the configured one")
    try:
        documents = read_documents(args.split)
    except DataError as error:
        sys.exit(str(error))
    compressor = create_compressor(
        method, model, settings.device, settings.compressor_runtime, settings.torch_threads
    )
    for ratio in args.ratio:
        report = evaluate(compressor, documents, ratio, not args.no_preserve, args.question)
        if args.json:
            print(json.dumps({k: v for k, v in report.items() if k != "documents"}))
            continue
        print(
            f"{method} ratio {ratio}: facts {report['facts_kept']}/{report['facts']} "
            f"({report['fact_share']:.1%}), ratio error median {report['median_ratio_error']:.1%} "
            f"max {report['max_ratio_error']:.1%}, {report['tokens_per_second']:.0f} GPT tokens/s"
        )
        for row in report["documents"]:
            lost = f" lost {row['lost']}" if row["lost"] else ""
            print(f"  {row['id']:<34} {row['kept']}/{row['facts']} kept {row['ratio']:.3f}{lost}")
            if args.show == row["id"]:
                print(row["text"])


if __name__ == "__main__":
    main()
