"""The Ray Serve application: the ingress bound to one deployment per model."""

import os
from typing import Any

from ray.serve import Application

from ..settings import Settings
from .deployments import ClassifierReplica, CompressorReplica, GeneratorReplica, Ingress
from .options import RayOptions

# Environment the replicas need wherever they run (other nodes do not inherit ours):
# offline model loading and where the caches are. Never ML_SERVICE_TOKEN: only the
# ingress checks it, and it gets it in its settings.
FORWARDED_ENV = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "ML_MODELS_DIR", "TIKTOKEN_CACHE_DIR")


def replica_settings(settings: Settings) -> Settings:
    """What a model replica is given: no secret, one torch thread unless told otherwise."""
    update: dict[str, object] = {"service_token": None}
    if "torch_threads" not in settings.model_fields_set:
        # Replicas share the cores: each taking them all would oversubscribe them.
        update["torch_threads"] = 1
    return settings.model_copy(update=update)


def waiting(places: int) -> int:
    """Ray's max_queued_requests for a queue of `places`: it takes no 0 (ML_MAX_QUEUE=0)."""
    return max(1, places)


def build_application(settings: Settings, options: RayOptions) -> Application:
    models = replica_settings(settings)
    env = {name: os.environ[name] for name in FORWARDED_ENV if name in os.environ}

    def placed(deployment: Any, model: str, **extra: Any) -> Any:
        return deployment.options(
            autoscaling_config=options.autoscaling_config(model, extra["max_ongoing_requests"]),
            ray_actor_options={
                "num_cpus": options.replica_cpus,
                "runtime_env": {"env_vars": env},
            },
            **extra,
        )

    # A classifier replica runs one batch while the next fills; past that, and past
    # max_queued_requests waiting for a replica, the call is refused at once (503).
    classifier_ongoing = 2 * settings.classify_max_batch
    classifier = placed(
        ClassifierReplica,
        "classifier",
        max_ongoing_requests=classifier_ongoing,
        max_queued_requests=waiting(settings.classify_max_queue),
    ).bind(models, classifier_ongoing)
    # One compression per replica at a time: it uses the replica's threads.
    compressor = placed(
        CompressorReplica,
        "compressor",
        max_ongoing_requests=1,
        max_queued_requests=waiting(settings.max_queue),
    ).bind(models)
    generator = None
    if settings.generator_enabled:
        generator = placed(
            GeneratorReplica,
            "generator",
            max_ongoing_requests=settings.generation_concurrency,
            max_queued_requests=waiting(settings.generation_concurrency),
        ).bind(models)
    # @serve.deployment made the class a Deployment; mypy keeps a class decorator's input.
    ingress = Ingress.options(  # type: ignore[attr-defined]
        num_replicas=options.ingress_replicas,
        ray_actor_options={"num_cpus": 0, "runtime_env": {"env_vars": env}},
    )
    _, most_generators = options.replicas("generator")
    return ingress.bind(settings, most_generators, classifier, compressor, generator)


def from_environment(_args: dict[str, Any] | None = None) -> Application:
    """The application as a Serve config file names it (`import_path`), e.g. KubeRay's
    RayService in deploy/: settings from each pod's ML_* and ML_RAY_* environment."""
    return build_application(Settings(), RayOptions())
