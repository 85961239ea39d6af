"""Reference workloads W1-W5 (shared/workloads/SPEC.md): data generators (W5's data shipped here) and
brr_bayes models. Benchmarks and tests import it from benchmarks/ (tests: pytest's pythonpath); it is not
part of the installed package."""
from .data import make_w1, make_w2, make_w3, make_w4, make_w5
from .models import bym2, eight_schools, mrp_logit, poll_rw, radon

__all__ = ["make_w1", "make_w2", "make_w3", "make_w4", "make_w5", "eight_schools", "mrp_logit", "poll_rw", "bym2",
           "radon"]
