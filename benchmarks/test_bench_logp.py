"""pytest-benchmark: logp+gradient evaluations of the reference workloads (brr_bayes and, when
installed, NumPyro in the same session). Not part of the CI test run; use

    pytest benchmarks/ --benchmark-only --benchmark-columns=median,ops

The side-by-side table with ratios is `brr-bayes bench` (results in benchmarks/RESULTS.md).
"""
import numpy as np
import pytest

import workloads as wl

CASES = {
    "W1": (wl.make_w1, wl.eight_schools),
    "W2_10k": (lambda: wl.make_w2(10_000), wl.mrp_logit),
    "W2_100k": (lambda: wl.make_w2(100_000), wl.mrp_logit),
    "W3": (wl.make_w3, wl.bym2),
    "W4": (wl.make_w4, wl.poll_rw),
}


@pytest.fixture(scope="module", params=list(CASES))
def workload(request):
    make, build = CASES[request.param]
    d = make()
    return request.param, d, build(d)


def test_brr_bayes_logp_grad(benchmark, workload):
    name, _, model = workload
    prog = model.compiled.program
    x = np.zeros(model.dim)
    benchmark.group = name
    lp = benchmark(prog.benchmark, x, 10)  # 10 evaluations per round, inside the C++ loop
    assert np.isfinite(lp)


def test_numpyro_logp_grad(benchmark, workload):
    pytest.importorskip("numpyro")
    import jax
    jax.config.update("jax_enable_x64", True)
    from harness.peers_numpyro import logp_grad_fn, models
    name, d, _ = workload
    f, dim = logp_grad_fn(models()[name.split("_")[0]](d))
    x = np.zeros(dim)
    f(x)[1].block_until_ready()
    benchmark.group = name

    def ten():
        for _ in range(10):
            out = f(x)
        out[1].block_until_ready()
    benchmark(ten)
