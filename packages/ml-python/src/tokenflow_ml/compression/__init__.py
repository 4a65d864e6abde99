"""Prompt compression: fact spans kept whole, structure kept, the rest scored by a model.

methods.py holds the compressors the service offers; spans.py finds the facts.
"""

from .methods import (
    Compression,
    Compressor,
    LLMLingua2Compressor,
    LLMLinguaCompressor,
    UnsupportedOption,
    create_compressor,
)

__all__ = [
    "Compression",
    "Compressor",
    "LLMLingua2Compressor",
    "LLMLinguaCompressor",
    "UnsupportedOption",
    "create_compressor",
]
