"""Streams one chat completion through TokenFlow with the official `openai` Python package.

Usage: python openai_python_client.py '<json options>'
Options: base_url, api_key, model, prompt, max_tokens, include_usage, close_after (chunks),
tools (true: stream a tool-calling answer with the package's helpers instead).

Text: prints one JSON object per line: {"model"}, {"tokenflow"}, {"text"}, {"reasoning"},
{"finish_reason"}, {"usage"}, {"closed"}.
Tools: uses `client.chat.completions.stream(...)` with tools made by
`openai.pydantic_function_tool` and prints {"event": <type>, ...} for every tool-argument
event the helper emits, then {"final": <the final message's tool calls>, "finish_reason"}.
Either way a failure prints {"error": <class name>, "status", "message"}.
"""

import json
import sys

import openai
from pydantic import BaseModel


class GetCountry(BaseModel):
    """The country the user is in."""


class GetProductName(BaseModel):
    """The product the user asks about."""


def emit(**fields):
    print(json.dumps(fields), flush=True)


def stream_text(client: openai.OpenAI, options: dict) -> None:
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


def stream_tool_calls(client: openai.OpenAI, options: dict) -> None:
    tools = [
        openai.pydantic_function_tool(GetCountry, name="get_country"),
        openai.pydantic_function_tool(GetProductName, name="get_product_name"),
    ]
    with client.chat.completions.stream(
        model=options["model"],
        messages=[{"role": "user", "content": options.get("prompt", "Hello")}],
        tools=tools,
        tool_choice="required",
    ) as stream:
        for event in stream:
            if event.type == "tool_calls.function.arguments.delta":
                emit(event=event.type, index=event.index, name=event.name, delta=event.arguments_delta)
            elif event.type == "tool_calls.function.arguments.done":
                parsed = event.parsed_arguments
                emit(
                    event=event.type,
                    index=event.index,
                    name=event.name,
                    arguments=event.arguments,
                    parsed=parsed.model_dump() if isinstance(parsed, BaseModel) else parsed,
                )
        final = stream.get_final_completion()
    choice = final.choices[0]
    emit(
        final=[
            {"id": call.id, "name": call.function.name, "arguments": call.function.arguments}
            for call in choice.message.tool_calls or []
        ],
        finish_reason=choice.finish_reason,
    )


def main() -> None:
    options = json.loads(sys.argv[1])
    client = openai.OpenAI(base_url=options["base_url"], api_key=options["api_key"], max_retries=0)
    try:
        (stream_tool_calls if options.get("tools") else stream_text)(client, options)
    except openai.APIError as error:
        emit(
            error=type(error).__name__,
            status=getattr(error, "status_code", None),
            message=error.message,
        )


if __name__ == "__main__":
    main()
