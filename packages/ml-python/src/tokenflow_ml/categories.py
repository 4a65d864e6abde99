"""The default categories: what each means, with example prompts.

They live in default_categories.json beside this file, in the format of a team's
own routes file (TOKENFLOW_ROUTES, see routing/routes.py), because other parts
read them too: the gateway's built-in catalog must rank a model for exactly
these categories (packages/server/src/routing/default-categories.test.ts fails
on drift), and the playground shows the catalog's categories as its defaults.

The embedding backend compares a prompt with each category's description and
examples; the NLI backend uses the descriptions as hypotheses. The examples
are anchors, not a test set: tests/data holds prompts that appear nowhere here.
The order matters: the bundled routing head scores the categories in it.
"""

from dataclasses import dataclass
from pathlib import Path

from .routing.routes import RoutesFile, load_routes

DEFAULT_CATEGORIES_PATH = Path(__file__).with_name("default_categories.json")


@dataclass(frozen=True)
class CategorySpec:
    description: str
    examples: tuple[str, ...]


def categories_of(routes: RoutesFile) -> dict[str, CategorySpec]:
    """A routes file's categories, by name, in its order."""
    return {r.name: CategorySpec(r.description, tuple(r.examples)) for r in routes.categories}


DEFAULT_CATEGORIES = categories_of(load_routes(DEFAULT_CATEGORIES_PATH))
