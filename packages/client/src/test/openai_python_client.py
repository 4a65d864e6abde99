"""Streams one chat completion through TokenFlow with the official `openai` Python package.

Usage: python openai_python_client.py '<json options>'
Options: base_url, api_key, model, prompt, max_tokens, include_usage, close_after (chunks).
Prints one JSON object per line: {"model"}, {"tokenflow"}, {"text"}, {"reasoning"},
{"finish_reason"}, {"usage"}, {"closed"}, or {"error": <class name>, "status", "message"}.
"""

import json
import sys

import openai


def emit(**fields):
    print(json.dumps(fields), flush=True)


def main() -> None:
    options = json.loads(sys.argv[1])
    client = openai.OpenAI(base_url=options["base_url"], api_key=options["api_key"], max_retries=0)
    try:
        stream = client.chat.completions.create(
            model=options["model"],
            messages=[{"role": "user", "content": options.get("prompt", "Hello")}],
            max_tokens=options.get("max_tokens"),
            stream=True,
            stream_options={"include_usage": True} if options.get("include_usage") else None,
        )
        close_after = options.get("close_after")
        for count, chunk in enumerate(stream, start=1):
            if count == 1:
                emit(model=chunk.model, tokenflow=(chunk.model_extra or {}).get("tokenflow"))
            for choice in chunk.choices:
                if choice.delta.content:
                    emit(text=choice.delta.content)
                reasoning = (choice.delta.model_extra or {}).get("reasoning")
                if reasoning:
                    emit(reasoning=reasoning)
                if choice.finish_reason:
                    emit(finish_reason=choice.finish_reason)
            if chunk.usage:
                emit(
                    usage=chunk.usage.model_dump(
                        include={"prompt_tokens", "completion_tokens", "total_tokens"}
                    )
                )
            if close_after and count >= close_after:
                stream.close()
                emit(closed=True)
                return
    except openai.APIError as error:
        emit(
            error=type(error).__name__,
            status=getattr(error, "status_code", None),
            message=error.message,
        )


if __name__ == "__main__":
    main()
