"""A team's own routes: categories with a description and labelled examples (JSON).

The file is referenced by TOKENFLOW_ROUTES, which the gateway reads too (to check
that its catalog ranks models only for categories the classifier can return).
"""

import hashlib
import json
from pathlib import Path
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    ValidationError,
    model_validator,
)

from ..schemas import MAX_CATEGORIES, MAX_PROMPT_CHARS, Category
from .labelled import DataError, describe

MIN_EXAMPLES = 5
MAX_EXAMPLES = 5_000
MAX_ROUTES_BYTES = 32 * 1024 * 1024

Example = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_PROMPT_CHARS)
]


class Route(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Category
    description: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)
    ]
    examples: list[Example] = Field(min_length=MIN_EXAMPLES, max_length=MAX_EXAMPLES)


class RoutesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    categories: list[Route] = Field(min_length=2, max_length=MAX_CATEGORIES)
    _sha256: str = PrivateAttr(default="")

    @property
    def sha256(self) -> str:
        """The file's bytes as read by load_routes."""
        return self._sha256

    @model_validator(mode="after")
    def _distinct(self) -> "RoutesFile":
        names = [route.name.lower() for route in self.categories]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"a category is listed twice: {', '.join(repeated)}")
        for route in self.categories:
            if len(set(route.examples)) != len(route.examples):
                raise ValueError(f"category {route.name!r} repeats an example")
        return self

    def names(self) -> list[str]:
        return [route.name for route in self.categories]


def head_path_for_routes(routes: Path) -> Path:
    """Where a routes file's head lives unless told otherwise: beside it."""
    return routes.with_name(f"{routes.stem}.head.json")


def load_routes(path: Path) -> RoutesFile:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: no such routes file") from None
    if len(raw) > MAX_ROUTES_BYTES:
        raise DataError(f"{path}: larger than {MAX_ROUTES_BYTES // (1024 * 1024)} MiB")
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise DataError(f"{path}: not a JSON document ({error})") from None
    try:
        routes = RoutesFile.model_validate(data)
    except ValidationError as error:
        raise DataError(f"{path}: {describe(error, whole='(file)')}") from None
    # From the bytes just read: what a head trained from this file records, so an edited
    # file is noticed at load (a second read could see another version).
    routes._sha256 = hashlib.sha256(raw).hexdigest()
    return routes
