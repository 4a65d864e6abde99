"""Schemathesis generates valid and invalid input for every operation in /openapi.json.

No input may make the service answer 5xx: invalid input is the caller's error (4xx), and
a 5xx would page whoever runs the gateway. The app runs in-process with the tiny models.
"""

import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import BaseSchema, Case, GenerationMode
from schemathesis.checks import not_a_server_error
from starlette.testclient import TestClient
from tiny_models import tiny_backends

from tokenflow_ml.app import create_app
from tokenflow_ml.local_model import LOCAL_MODEL_ID
from tokenflow_ml.settings import Settings

TOKEN = "s3cret-token-for-tests-0123456789"
EXAMPLES_PER_OPERATION = 60
# Generation speed is not under test: a long max_tokens only makes a run slow.
MAX_GENERATED_TOKENS = 8
# The tiny causal model has no chat template; this ChatML one is SmolLM2's format.
CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


@pytest.fixture(scope="module")
def chat_model(tiny_models, tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp("chat") / "tiny-llama-chat"
    shutil.copytree(tiny_models["causal"], folder)
    (folder / "chat_template.jinja").write_text(CHAT_TEMPLATE)
    return str(folder)


def tiny_settings(tiny_models, chat_model, **overrides) -> Settings:
    return Settings(
        **tiny_backends(tiny_models),
        generator_enabled=True,
        generator_model=chat_model,
        # Cases run one at a time; a full queue would be a 503 by design, not a bug.
        generation_wait_s=30,
        generation_default_max_tokens=MAX_GENERATED_TOKENS,
        **overrides,
    )


def lifespan_run_elsewhere(app):
    """The app, minus its lifespan: schemathesis ends an app's lifespan after each test,
    and ours loads the models, so the fixture runs it once (through TestClient) instead."""

    async def wrapper(scope, receive, send):
        if scope["type"] != "lifespan":
            await app(scope, receive, send)
            return
        while (await receive())["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})

    return wrapper


@contextmanager
def fuzzable(settings: Settings, **headers: str) -> Iterator[tuple[BaseSchema, TestClient]]:
    app = create_app(settings)
    with TestClient(app, headers=headers) as client:  # runs the lifespan: the models load
        deadline = time.monotonic() + 120
        while (readiness := client.get("/readyz")).status_code != 200:
            assert time.monotonic() < deadline, readiness.json()
            time.sleep(0.1)
        schema = schemathesis.openapi.from_asgi(
            "/openapi.json", lifespan_run_elsewhere(app), headers=headers
        )
        yield schema, client


@pytest.fixture(scope="module")
def open_service(tiny_models, chat_model):
    with fuzzable(tiny_settings(tiny_models, chat_model)) as service:
        yield service


@pytest.fixture(scope="module")
def open_schema(open_service) -> BaseSchema:
    return open_service[0]


@pytest.fixture(scope="module")
def token_schema(tiny_models, chat_model):
    settings = tiny_settings(tiny_models, chat_model, service_token=TOKEN)
    with fuzzable(settings, Authorization=f"Bearer {TOKEN}") as (schema, _):
        yield schema


def fuzz(
    schema, method: str, path: str, examples: int, check: Callable[[Case], int]
) -> Counter[int]:
    """Runs `check` on valid and invalid cases; returns how often each status came back.

    Deterministic (a fixed seed, no example database), so CI and a laptop agree.

    Plain Hypothesis rather than schemathesis' pytest plugin: the plugin's lazy loader
    breaks on pytest 9 (it writes `Function._nodeid`, which pytest 9 no longer has).
    """
    operation = schema[path][method]
    cases = st.one_of([operation.as_strategy(generation_mode=mode) for mode in GenerationMode])

    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(cases)
    def run(case: Case) -> None:
        statuses[check(case)] += 1

    statuses: Counter[int] = Counter()
    run()
    return statuses


def steered(case: Case) -> Case:
    """Points chat requests at the model this server has (a random name only gets a 404)
    and keeps max_tokens small (generation speed is not under test)."""
    if case.path == "/v1/chat/completions" and isinstance(case.body, dict):
        if isinstance(case.body.get("model"), str):
            case.body["model"] = LOCAL_MODEL_ID
        for key in ("max_tokens", "max_completion_tokens"):
            value = case.body.get(key)
            if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                case.body[key] = min(value, MAX_GENERATED_TOKENS)
    return case


OPERATIONS = [
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("POST", "/classify"),
    ("POST", "/compress"),
    ("GET", "/v1/models"),
    ("POST", "/v1/chat/completions"),
]
OPEN_PROBES = {("GET", "/healthz"), ("GET", "/readyz")}


def test_every_operation_in_the_spec_is_fuzzed(open_schema):
    in_spec = {(op.ok().method.upper(), op.ok().path) for op in open_schema.get_all_operations()}

    assert in_spec == set(OPERATIONS)


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_no_generated_input_gets_a_server_error(open_schema, method, path):
    def check(case: Case) -> int:
        return steered(case).call_and_validate(checks=[not_a_server_error]).status_code

    statuses = fuzz(open_schema, method, path, EXAMPLES_PER_OPERATION, check)

    # Both kinds of input got through: valid ones to the models, invalid ones to validation.
    assert statuses[200] > 0, statuses
    if method == "POST":
        assert sum(n for status, n in statuses.items() if 400 <= status < 500) > 0, statuses


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_with_a_token_set_a_request_without_it_gets_401_unless_a_probe(token_schema, method, path):
    def check(case: Case) -> int:
        response = case.call()
        return response.status_code

    statuses = fuzz(token_schema, method, path, 10, check)

    assert set(statuses) == ({200} if (method, path) in OPEN_PROBES else {401}), statuses


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_with_the_token_sent_no_generated_input_gets_a_server_error(token_schema, method, path):
    def check(case: Case) -> int:
        response = steered(case).call(headers={"Authorization": f"Bearer {TOKEN}"})
        case.validate_response(response, checks=[not_a_server_error])
        return response.status_code

    statuses = fuzz(token_schema, method, path, 10, check)

    assert 401 not in statuses


# What the fuzzing found, pinned down so it stays fixed.


def test_a_stop_string_the_vocabulary_cannot_match_is_a_400_not_a_500(open_service):
    _, client = open_service
    body = {"model": LOCAL_MODEL_ID, "messages": [{"role": "user", "content": "hi"}]}

    # SmolLM2's vocabulary cannot match an emoji either.
    response = client.post("/v1/chat/completions", json={**body, "stop": ["🎉"]})
    after = client.post("/v1/chat/completions", json={**body, "max_tokens": 2})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_stop"
    assert after.status_code == 200  # the generation slot was given back


def test_a_tokenizer_that_returns_token_type_ids_still_generates(open_service, chat_model):
    from transformers import AutoTokenizer

    _, client = open_service
    tokenizer = AutoTokenizer.from_pretrained(chat_model)
    messages = [{"role": "user", "content": "hi"}]

    response = client.post(
        "/v1/chat/completions", json={"model": LOCAL_MODEL_ID, "messages": messages}
    )

    assert "token_type_ids" in tokenizer.apply_chat_template(messages, return_dict=True)
    assert response.status_code == 200
