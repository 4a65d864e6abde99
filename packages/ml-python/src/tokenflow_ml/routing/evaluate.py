"""`npm run routing:eval -- FILE.jsonl`: how well the running service routes a labelled set.

Sends every prompt to the gateway's POST /api/classify (or, with --ml, straight to
the ML service's /classify) one at a time, and prints accuracy with its 95%
interval, per-category precision and recall, per-language and per-kind accuracy,
the confusion matrix, calibration and latency.
"""

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from .labelled import DataError, read_labelled, user_path
from .report import Prediction, build_report


class ServiceError(RuntimeError):
    pass


def classify(
    url: str, prompt: str, categories: list[str] | None, token: str | None
) -> dict[str, Any]:
    body: dict[str, str | list[str]] = {"prompt": prompt}
    if categories:
        body["possible_categories"] = categories
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json"}
        | ({"authorization": f"Bearer {token}"} if token else {}),
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            body = json.loads(response.read())
    except json.JSONDecodeError:
        raise ServiceError(f"{url} answered with something that is not JSON") from None
    except urllib.error.HTTPError as error:
        detail = error.read().decode(errors="replace")[:300]
        raise ServiceError(f"{url} answered {error.code}: {detail}") from None
    except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
        message = f"cannot reach {url} ({error}): is the stack running (npm start)?"
        raise ServiceError(message) from None
    if not isinstance(body, dict):
        raise ServiceError(f"{url} answered without a classification: {body!r:.300}")
    return body


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="npm run routing:eval --", description=__doc__.splitlines()[0]
    )
    parser.add_argument("file", type=Path, help="labelled JSONL: {prompt, category, ...} a line")
    parser.add_argument(
        "--url",
        default=os.environ.get(
            "TOKENFLOW_URL", f"http://127.0.0.1:{os.environ.get('PORT', '8000')}"
        ),
        help="the gateway (default: $TOKENFLOW_URL or http://127.0.0.1:$PORT)",
    )
    parser.add_argument("--ml", help="evaluate the ML service at this URL instead of the gateway")
    parser.add_argument(
        "--send-categories",
        action="store_true",
        help="send the file's categories as possible_categories (zero-shot custom categories)",
    )
    args = parser.parse_args(argv)
    try:
        rows = read_labelled(user_path(args.file))
    except DataError as error:
        print(f"routing:eval: {error}", file=sys.stderr)
        return 2
    if args.ml:
        url, token = f"{args.ml.rstrip('/')}/classify", os.environ.get("ML_SERVICE_TOKEN")
    else:
        url, token = f"{args.url.rstrip('/')}/api/classify", os.environ.get("TOKENFLOW_API_KEY")
    categories = sorted({row.category for row in rows}) if args.send_categories else None
    predictions = []
    try:
        for row in rows:
            started = time.perf_counter()
            answer = classify(url, row.prompt, categories, token)
            elapsed = (time.perf_counter() - started) * 1000
            try:
                top, confidence = answer["top_category"], float(answer["confidence"])
            except (KeyError, TypeError, ValueError):
                raise ServiceError(
                    f"{url} answered without a classification: {answer!r:.300}"
                ) from None
            predictions.append(Prediction(top, confidence, elapsed))
    except ServiceError as error:
        print(f"routing:eval: {error}", file=sys.stderr)
        return 1
    print(f"{args.file}: {len(rows)} prompts against {url}")
    print(build_report(rows, predictions).format())
    return 0


if __name__ == "__main__":
    sys.exit(main())
