"""Speed-up of the one-pass GLM op (GlmLpdf) over the unfused LinearPredictor + likelihood, measured as
a ratio of alternating runs in one process (robust to machine load).

    python benchmarks/glm_fused_compare.py
"""
import time, numpy as np, statistics
import workloads as wl
from workloads.data import make_w2
import brr_bayes as bb
def build(fused, name):
    if name == "W5": m = wl.radon(wl.make_w5())
    elif name == "W2-100k": m = wl.mrp_logit(make_w2(100_000))
    elif name == "W3": m = wl.bym2(wl.make_w3())
    else: m = wl.poll_rw(wl.make_w4())
    m.compile_options = bb.CompileOptions(glm=fused)
    m.compiled
    return m
for name in ["W5", "W2-100k", "W3", "W4"]:
    a, b = build(True, name), build(False, name)
    x = np.zeros(a.dim); pa, pb = a.compiled.program, b.compiled.program
    ra = []
    for _ in range(7):
        t = time.perf_counter(); pa.benchmark(x, 300); ta = time.perf_counter() - t
        t = time.perf_counter(); pb.benchmark(x, 300); tb = time.perf_counter() - t
        ra.append(tb / ta)
    print(name, "fused speed-up", round(statistics.median(ra), 2), "us/eval fused", round(ta / 300 * 1e6, 1))
