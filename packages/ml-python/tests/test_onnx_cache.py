"""The ONNX cache: exported and quantised once, even when several processes load at once
(Ray Serve's replicas do, and the compressor shares the classifier's encoder)."""

import subprocess
import sys

LOAD = """
import sys
from pathlib import Path
from tokenflow_ml.onnx_models import onnx_session
session = onnx_session(Path(sys.argv[1]), Path(sys.argv[2]), head="AutoModel",
                       output="last_hidden_state", quantized=True, threads=1)
print(session.get_outputs()[0].name)
"""


def test_processes_loading_the_same_model_at_once_share_one_export(tmp_path, minilm_path):
    loads = [
        subprocess.Popen(
            [sys.executable, "-c", LOAD, minilm_path, str(tmp_path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    outcomes = [(load.wait(timeout=300), *load.communicate()) for load in loads]

    assert [(code, out.strip()) for code, out, _ in outcomes] == [(0, "last_hidden_state")] * 3, [
        err[-2000:] for _, _, err in outcomes
    ]
    [fp32] = [path for path in tmp_path.glob("*.onnx") if not path.stem.endswith("-int8")]
    assert {path.name for path in tmp_path.glob("*.onnx")} == {fp32.name, f"{fp32.stem}-int8.onnx"}
