"""CUDA kernels against the CPU program on the same data (run only where a GPU is visible)."""
import numpy as np
import pytest

import brr_bayes as bb
from brr_bayes import _backend


@pytest.mark.gpu
def test_glm_bernoulli_matches_cpu_program():
    rng = np.random.default_rng(0)
    n, sizes = 20000, [50, 6, 200]
    idx = [rng.integers(0, s, n) for s in sizes]
    offset = rng.normal(size=n)
    y = (rng.random(n) < 0.4).astype(float)
    gpu = _backend.cuda_module().GlmBernoulli(y, offset, idx, sizes)
    params = rng.normal(scale=0.3, size=sum(sizes))
    lp, grad = gpu.logp_and_grad(params)
    with bb.Model() as m:
        a = [bb.Flat(f"a{k}", shape=s) for k, s in enumerate(sizes)]
        eta = offset + a[0][idx[0]] + a[1][idx[1]] + a[2][idx[2]]
        bb.Bernoulli("y", logit_p=eta, observed=y)
    lp_cpu, grad_cpu = m.logp_and_grad(params)
    assert abs(lp - lp_cpu) < 1e-9 * abs(lp_cpu)
    np.testing.assert_allclose(grad, grad_cpu, rtol=1e-9, atol=1e-9)


@pytest.mark.gpu
def test_glm_bernoulli_validates_indices():
    with pytest.raises(ValueError, match="outside"):
        _backend.cuda_module().GlmBernoulli(np.zeros(3), np.zeros(3), [np.array([0, 1, 5])], [3])
