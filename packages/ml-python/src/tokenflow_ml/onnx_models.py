"""Transformers models as ONNX Runtime sessions: exported once, optionally quantised to int8.

The graphs are made from the model's own weights and kept in a cache keyed by their hash,
so a changed model is exported again and the first start pays the export (seconds).
Int8 is dynamic quantisation of the matrix products, per channel, unsigned 8-bit on both
sides, so no CPU's integer kernels saturate.
"""

import contextlib
import fcntl
import hashlib
import logging
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # onnxruntime has no type hints: to mypy this is Any.
    from onnxruntime import InferenceSession

log = logging.getLogger("tokenflow_ml.models")

EXPORT_VERSION = "1"  # bump when the export below changes


def _weights_key(folder: Path) -> str:
    digest = hashlib.sha256(EXPORT_VERSION.encode())
    with (folder / "model.safetensors").open("rb") as weights:
        for chunk in iter(lambda: weights.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()[:16]


def _quiet_quantiser(record: logging.LogRecord) -> bool:
    return "onnxruntime" not in record.pathname


def _quantize(source: Path, target: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(handle)
    # The quantiser logs a line per tensor straight on the root logger; a filter there
    # drops only those (records of named loggers pass through the root's handlers, not it).
    root = logging.getLogger()
    root.addFilter(_quiet_quantiser)
    try:
        quantize_dynamic(
            source,
            temporary,
            per_channel=True,
            weight_type=QuantType.QUInt8,
            op_types_to_quantize=["MatMul"],
        )
        os.replace(temporary, target)
    finally:
        root.removeFilter(_quiet_quantiser)
        Path(temporary).unlink(missing_ok=True)


def _export(folder: Path, target: Path, head: str, output: str) -> None:
    import torch
    import transformers
    from transformers import AutoTokenizer

    model = getattr(transformers, head).from_pretrained(folder).eval()
    sample = AutoTokenizer.from_pretrained(folder)(["an example sentence"], return_tensors="pt")
    names = [name for name in ("input_ids", "attention_mask", "token_type_ids") if name in sample]
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(handle)
    try:
        with torch.inference_mode():
            torch.onnx.export(
                model,
                tuple(sample[name] for name in names),
                temporary,
                input_names=names,
                output_names=[output],
                dynamic_axes={name: {0: "batch", 1: "tokens"} for name in [*names, output]},
                opset_version=17,
                dynamo=False,
            )
        os.replace(temporary, target)
    finally:
        Path(temporary).unlink(missing_ok=True)


@contextlib.contextmanager
def _only_process_making(graph: Path) -> Iterator[None]:
    """Held while one process exports or quantises `graph`; others wait, then reuse it.

    Several processes can load the same model at once (Ray Serve replicas, the compressor
    sharing the classifier's encoder), and the quantiser writes a fixed side file next to
    its input (`<name>-inferred.onnx`) that it deletes when done: two at once fail.
    """
    graph.parent.mkdir(parents=True, exist_ok=True)
    with open(graph.with_name(f".{graph.stem}.lock"), "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.info("waiting for another process to export %s", graph.name)
            fcntl.flock(lock, fcntl.LOCK_EX)
        except OSError as error:  # a file system without locks (NFS mounted nolock)
            log.warning("cannot lock %s (%s): exporting without the lock", lock.name, error)
            yield
            return
        # Half-written files of a process killed while exporting: never read, only kept.
        for stale in graph.parent.glob(f".{graph.stem}*.onnx.*"):
            stale.unlink(missing_ok=True)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def onnx_session(
    folder: Path,
    cache_dir: Path,
    *,
    head: str,
    output: str,
    quantized: bool,
    threads: int,
) -> "InferenceSession":
    """An ONNX Runtime session of the model in `folder` (`head`: its Transformers class,
    e.g. "AutoModel"; `output`: the output's name), exported and quantised once."""
    import onnxruntime

    graph = cache_dir / f"{folder.parent.name}-{folder.name}-{_weights_key(folder)}.onnx"
    int8 = graph.with_name(f"{graph.stem}-int8.onnx")
    wanted = int8 if quantized else graph
    if not wanted.exists():
        with _only_process_making(graph):
            # Checked again: another process may have made them while this one waited.
            if not graph.exists():
                log.info("exporting %s to ONNX once (%s)", folder.name, graph)
                _export(folder, graph, head, output)
            if quantized and not int8.exists():
                log.info("quantising %s to int8 once (%s)", folder.name, int8)
                _quantize(graph, int8)
    graph = wanted
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Idle workers sleep instead of spinning: a spinning thread holds one of two cores
    # after each run, while the event loop, the gateway and the provider call need it.
    # Alone a run is about 0.8 ms slower; in selectModel's decision the difference is
    # within the bench's noise, and the core is free for the others.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return onnxruntime.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])
