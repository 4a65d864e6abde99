"""How the service is laid out on Ray Serve: ML_RAY_* settings."""

from typing import Any, Self

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

APP_NAME = "tokenflow-ml"


MODELS = ("classifier", "compressor", "generator")


class RayOptions(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ML_RAY_", extra="ignore")

    address: str | None = Field(
        default=None,
        description="A running cluster to join (`ray start --head` prints it, e.g. "
        "10.0.0.5:6379); unset starts a single-node cluster in this process.",
    )
    num_cpus: int | None = Field(
        default=None, ge=1, description="CPUs of the single-node cluster (all by default)."
    )
    classifier_replicas: int = Field(default=2, ge=1, le=64)
    classifier_max_replicas: int | None = Field(default=None, ge=1, le=64)
    compressor_replicas: int = Field(default=1, ge=1, le=64)
    compressor_max_replicas: int | None = Field(default=None, ge=1, le=64)
    generator_replicas: int = Field(default=1, ge=1, le=64)
    generator_max_replicas: int | None = Field(default=None, ge=1, le=64)
    ingress_replicas: int = Field(default=1, ge=1, le=64)
    replica_cpus: float = Field(
        default=0.25,
        gt=0,
        le=64,
        description="CPUs Ray reserves for each model replica. Logical: torch's threads "
        "(ML_TORCH_THREADS, 1 per replica by default here) set what it really uses.",
    )
    target_ongoing_requests: float = Field(
        default=4,
        gt=0,
        description="Classifications per classifier replica the autoscaler aims for; the "
        "compressor and the generator aim for what one replica runs at once.",
    )

    @model_validator(mode="after")
    def _max_at_least_min(self) -> Self:
        for model in MODELS:
            low, high = self.replicas(model)
            if high < low:
                prefix = f"ML_RAY_{model.upper()}"
                raise ValueError(
                    f"{prefix}_MAX_REPLICAS ({high}) must be at least {prefix}_REPLICAS ({low})"
                )
        return self

    def replicas(self, model: str) -> tuple[int, int]:
        """The fewest and most replicas of a model's deployment (the most: the fewest if unset)."""
        low = getattr(self, f"{model}_replicas")
        return low, getattr(self, f"{model}_max_replicas") or low

    def autoscaling_config(self, model: str, at_once: int = 1) -> dict[str, Any]:
        """Ray scales the deployment between them on requests queued and running per replica.

        `at_once`: what one replica of a model other than the classifier runs at a time.
        """
        low, high = self.replicas(model)
        target = self.target_ongoing_requests if model == "classifier" else at_once
        return {
            "min_replicas": low,
            "initial_replicas": low,
            "max_replicas": high,
            "target_ongoing_requests": target,
        }
