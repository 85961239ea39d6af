"""What the compiler may do to a model: each rewrite, fusion and compression can be switched off."""
from __future__ import annotations

from dataclasses import dataclass, replace

PASSES = ("fold_constants", "simplify", "compose_gathers", "select_rows", "split_row_sums",
          "push_through_gather", "factor_rows", "cse")


@dataclass(frozen=True)
class CompileOptions:
    """Switches for the compiler's passes; the defaults are what every model should use.

    Turning a pass off changes speed only, never the log density (tests compare both ways).

    Example:
        >>> import brr_bayes as bb
        >>> opts = bb.CompileOptions(compress=False)      # every likelihood row visited
        >>> with bb.Model(compile_options=opts) as m:
        ...     mu = bb.Normal("mu", 0, 1)
    """
    passes: tuple = PASSES         # canonicalising passes to run (see compile/canonical.py)
    fuse: bool = True              # sums of gathers, scalars and columns as one LinearPredictor op
    glm: bool = True               # linear predictor and likelihood in one GlmLpdf op
    compress: bool = True          # merge likelihood rows whose predictor data repeat (compile/compress.py)
    max_cell_fraction: float = 0.8  # compress when it removes at least a fifth of the rows
    factor_max_fraction: float = 0.5  # factor a row-wise node when at most half its rows are distinct

    def __post_init__(self):
        unknown = [p for p in self.passes if p not in PASSES]
        if unknown:
            raise ValueError(f"CompileOptions: unknown pass(es) {unknown}; choose from {list(PASSES)}")
        for f in ("max_cell_fraction", "factor_max_fraction"):
            v = getattr(self, f)
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"CompileOptions: {f} must lie in [0, 1], got {v}")

    def without(self, *passes):
        """A copy with the named passes switched off."""
        return replace(self, passes=tuple(p for p in self.passes if p not in passes))
