"""The classifier the service serves, from its settings: which categories, which head."""

from pathlib import Path

from ..categories import DEFAULT_CATEGORIES, CategorySpec, categories_of
from ..classification import Classifier, EmbeddingClassifier, NliClassifier
from ..settings import Settings
from .head import DEFAULT_HEAD_PATH, DEFAULT_RETRAIN
from .routes import RoutesFile, head_path_for_routes, load_routes


def served_categories(routes: RoutesFile | None) -> dict[str, CategorySpec]:
    if routes is None:
        return DEFAULT_CATEGORIES
    return categories_of(routes)


def head_path(settings: Settings) -> Path | None:
    if settings.routing_head == "off":
        return None
    if settings.routing_head:
        return Path(settings.routing_head)
    if settings.routes_file is not None:
        return head_path_for_routes(settings.routes_file)
    return DEFAULT_HEAD_PATH


def create_classifier(settings: Settings) -> Classifier:
    # Read once: the categories served and the digest checked against the head come from
    # the same bytes.
    loaded = load_routes(settings.routes_file) if settings.routes_file is not None else None
    model, categories = settings.classifier_model_id(), served_categories(loaded)
    if settings.classifier_backend == "nli":
        return NliClassifier(model, settings.device, categories=categories)
    routes = settings.routes_file
    return EmbeddingClassifier(
        model,
        settings.device,
        categories=categories,
        head=head_path(settings),
        runtime=settings.classifier_runtime,
        threads=settings.torch_threads,
        # A routes file's own head must come from this version of the file.
        head_source_sha256=loaded.sha256 if loaded and not settings.routing_head else None,
        head_retrain=f"npm run classifier:train -- --routes {routes}"
        if routes
        else DEFAULT_RETRAIN,
        # Only the implicit bundled head may be skipped; a configured one must fit.
        head_optional=routes is None and not settings.routing_head,
    )
