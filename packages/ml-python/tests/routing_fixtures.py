"""The example support routes from the README, shared by the routing tests."""

import json
from pathlib import Path

EXAMPLE_DIR = Path(__file__).resolve().parents[1] / "data" / "routing" / "example-routes"
SUPPORT_ROUTES = json.loads((EXAMPLE_DIR / "support-routes.json").read_text())


def write_routes(directory: Path, routes: dict | None = None) -> Path:
    path = directory / "support-routes.json"
    path.write_text(json.dumps(routes or SUPPORT_ROUTES, indent=2))
    return path
