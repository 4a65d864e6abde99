"""Labelled prompt files (JSONL): one {"prompt", "category", ...} object a line.

Training, evaluation and the tests read them through here, so a bad line gets
one message naming the file and the line, wherever it is read.
"""

import json
import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..schemas import MAX_PROMPT_CHARS, _not_blank

MAX_LINES = 200_000

Kind = Literal["short", "long", "casual", "formal", "typo", "pasted", "multi-turn", "border"]


class LabelledPrompt(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prompt: str = Field(min_length=1, max_length=MAX_PROMPT_CHARS)
    category: str = Field(min_length=1, max_length=64)
    language: str = Field(default="en", pattern=r"^[a-z]{2}$")
    kind: Kind | None = None

    _prompt_not_blank = field_validator("prompt")(_not_blank)


class DataError(ValueError):
    """A labelled file or routes file that cannot be used; the message names where."""


def describe(error: ValidationError, whole: str = "line") -> str:
    """Each problem by the field it is in; `whole` names a problem of the whole document."""
    return "; ".join(
        f"{'.'.join(str(p) for p in issue['loc']) or whole}: {issue['msg']}"
        for issue in error.errors()
    )


def read_labelled(path: Path, categories: list[str] | None = None) -> list[LabelledPrompt]:
    """Every row of `path`; with `categories`, each row's category must be one of them."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except UnicodeDecodeError as error:
        raise DataError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start})") from None
    rows: list[LabelledPrompt] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if len(rows) >= MAX_LINES:
            raise DataError(f"{path}: more than {MAX_LINES} rows")
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as error:
            raise DataError(f"{path}:{number}: not a JSON object ({error.msg})") from None
        if not isinstance(raw, dict):
            raise DataError(f"{path}:{number}: expected a JSON object, got {type(raw).__name__}")
        if "category" not in raw:
            raise DataError(f'{path}:{number}: missing label: every line needs a "category"')
        try:
            row = LabelledPrompt.model_validate(raw)
        except ValidationError as error:
            raise DataError(f"{path}:{number}: {describe(error)}") from None
        if categories is not None and row.category not in categories:
            raise DataError(
                f"{path}:{number}: unknown category {row.category!r}; "
                f"expected one of {', '.join(categories)}"
            )
        rows.append(row)
    if not rows:
        raise DataError(f"{path}: empty file: no labelled prompts")
    return rows


def user_path(path: Path) -> Path:
    """A path as typed: `npm run` moves to the repository root; INIT_CWD is where the user was."""
    return path if path.is_absolute() else Path(os.environ.get("INIT_CWD", ".")) / path
