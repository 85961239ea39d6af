"""From a Model's expression graph to a C++ Program: canonicalising passes, compression, fusion, lowering."""
from .lower import CompiledModel, Compiler
from .options import PASSES, CompileOptions

__all__ = ["CompiledModel", "Compiler", "CompileOptions", "PASSES"]
