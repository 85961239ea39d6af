"""Reference workloads W1-W4: data generators and brr_bayes models (used by the demo and benchmarks)."""
from .data import make_w1, make_w2, make_w3, make_w4
from .models import bym2, eight_schools, mrp_logit, poll_rw

__all__ = ["make_w1", "make_w2", "make_w3", "make_w4", "eight_schools", "mrp_logit", "poll_rw", "bym2"]
