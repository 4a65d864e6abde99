"""The baseline for the compression benchmark: the llmlingua library called directly.

A worker driven over stdin/stdout, one JSON object per line, so the benchmark can
alternate its calls with the ML service's. It loads the same model the service
loads and times `PromptCompressor.compress_prompt` alone, in this process.

    python bench/src/compression-direct.py llmlingua2|llmlingua MODEL_PATH
    <- {"op": "sample", "tokens": [500, 2000]}   -> {"texts": {"500": "...", "2000": "..."}}
    <- {"op": "compress", "text": "...", "rate": 0.5}
                                                -> {"ms": 812.4, "originTokens": 500, "compressedTokens": 251}
"""

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "packages" / "ml-python" / "tests"))


def main(method: str, model: str) -> None:
    import tiktoken
    import torch
    from tiny_models import sample_text
    from tokenflow_ml.compression.library import library_compressor

    # The same thread count the service uses by default (ML_TORCH_THREADS).
    torch.set_num_threads(os.cpu_count() or 1)
    started = time.perf_counter()
    # For the perplexity method, with the key/value cache adapter llmlingua 0.2.2 needs on
    # current Transformers (compression/library.py).
    compressor = library_compressor(model, llmlingua2=method == "llmlingua2")
    load_ms = (time.perf_counter() - started) * 1000
    gpt = tiktoken.get_encoding("cl100k_base")

    def sample(tokens: int) -> str:
        # Meeting-notes-like text cut to exactly `tokens` GPT tokens.
        ids = gpt.encode(sample_text(tokens, seed=tokens))
        return gpt.decode(ids[:tokens])

    def compress(text: str, rate: float) -> dict:
        started = time.perf_counter()
        if method == "llmlingua2":
            result = compressor.compress_prompt(text, rate=rate)
        else:
            result = compressor.compress_prompt([text], rate=rate)
        return {
            "ms": (time.perf_counter() - started) * 1000,
            "originTokens": int(result["origin_tokens"]),
            "compressedTokens": int(result["compressed_tokens"]),
        }

    print(json.dumps({"ready": {"model": model, "loadMs": load_ms}}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        if request["op"] == "sample":
            reply = {"texts": {str(n): sample(n) for n in request["tokens"]}}
        else:
            reply = compress(request["text"], request["rate"])
        print(json.dumps(reply), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
