"""From a Model's expression graph to a C++ Program: canonicalising passes, compression, fusion, lowering.

Loading this package hands the compiler to bb.Model (Model.use_compiler): the model layer never imports
this one."""
from ..model.core import Model
from .explain import explain
from .compiled import CompiledModel
from .lower import Compiler
from .options import PASSES, CompileOptions


class _ModelCompiler:
    """What bb.Model calls to compile itself, to read its default options, and to explain its program."""
    options_type = CompileOptions

    @staticmethod
    def compile(model, options):
        return CompiledModel(model, options)

    @staticmethod
    def explain(model):
        return explain(model)


Model.use_compiler(_ModelCompiler())

__all__ = ["CompiledModel", "Compiler", "CompileOptions", "PASSES"]
