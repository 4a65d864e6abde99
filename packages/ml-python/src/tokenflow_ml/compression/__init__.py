"""Prompt compression: fact spans kept whole, structure kept, the rest scored by a model.

methods.py holds the compressors the service offers; spans.py finds the facts.
"""

from .methods import (
    Compressor,
    DistilledCompressor,
    LLMLingua2Compressor,
    LLMLinguaCompressor,
    create_compressor,
)
from .pipeline import Compression, UnsupportedOption

__all__ = [
    "Compression",
    "Compressor",
    "DistilledCompressor",
    "LLMLingua2Compressor",
    "LLMLinguaCompressor",
    "UnsupportedOption",
    "create_compressor",
]
