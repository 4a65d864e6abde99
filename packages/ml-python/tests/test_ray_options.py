"""ML_RAY_* settings: how the service is laid out on Ray Serve."""

import pytest
from pydantic import ValidationError
from ray.serve import Application

from tokenflow_ml.ray_serve.application import from_environment, replica_settings
from tokenflow_ml.ray_serve.options import RayOptions
from tokenflow_ml.settings import Settings


def test_two_classifier_replicas_and_one_of_each_other_model_by_default():
    options = RayOptions()
    assert options.replicas("classifier") == (2, 2)
    assert options.replicas("compressor") == (1, 1)
    assert options.autoscaling_config("classifier") == {
        "min_replicas": 2,
        "initial_replicas": 2,
        "max_replicas": 2,
        "target_ongoing_requests": 4,
    }


def test_a_maximum_lets_ray_autoscale_up_to_it(monkeypatch):
    monkeypatch.setenv("ML_RAY_COMPRESSOR_MAX_REPLICAS", "4")
    assert RayOptions().autoscaling_config("compressor")["max_replicas"] == 4


def test_a_maximum_below_the_minimum_is_refused_by_name(monkeypatch):
    monkeypatch.setenv("ML_RAY_CLASSIFIER_MAX_REPLICAS", "1")
    with pytest.raises(ValidationError, match="ML_RAY_CLASSIFIER_MAX_REPLICAS"):
        RayOptions()


def test_model_replicas_get_no_token_and_one_torch_thread(monkeypatch):
    monkeypatch.delenv("ML_TORCH_THREADS", raising=False)
    monkeypatch.setenv("ML_SERVICE_TOKEN", "a-token-long-enough-for-the-rule-0123456789")
    replica = replica_settings(Settings())
    assert replica.service_token is None
    assert replica.torch_threads == 1


def test_torch_threads_set_in_the_environment_win(monkeypatch):
    monkeypatch.setenv("ML_TORCH_THREADS", "3")
    assert replica_settings(Settings()).torch_threads == 3


def test_a_queue_of_none_still_builds_since_ray_takes_no_zero(monkeypatch):
    monkeypatch.setenv("ML_MAX_QUEUE", "0")
    assert isinstance(from_environment(), Application)
