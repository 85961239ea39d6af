"""CUDA kernels against the CPU program on the same data (run only where a GPU is visible): the whole op
program on the device executor (W1-W5 and one model per other op family; the fused GLM op among them)."""
import numpy as np
import pytest

import brr_bayes as bb
from brr_bayes import _backend


WORKLOADS = ["W1", "W2", "W3", "W4", "W5"]


def _workload(name):
    from helpers import workloads
    make, build = workloads()[name]
    return build(make())


@pytest.mark.gpu
@pytest.mark.parametrize("name", WORKLOADS)
def test_program_on_the_device_matches_the_cpu(name):
    from helpers import assert_grid_matches
    m = _workload(name)
    X = np.random.default_rng(0).normal(scale=0.5, size=(16, m.dim))
    dev = _backend.cuda_module().ProgramDevice(m.compiled.program, 16)
    lp, G = dev.logp_and_grad(X)
    rows = [m.logp_and_grad(x) for x in X]
    expected = (np.array([r[0] for r in rows]), np.array([r[1] for r in rows]))
    # the same comparison the host run of these kernels passes (tests/test_device_executor.py)
    host = m.compiled.program.logp_and_grad_grid(X)
    np.testing.assert_allclose(lp, host[0], rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(G, host[1], rtol=1e-10, atol=1e-10)
    assert_grid_matches(m, X, rtol=1e-10, expected=expected)
    again = dev.logp_and_grad(X)   # no atomics: the same bits every call
    np.testing.assert_array_equal(again[0], lp)
    np.testing.assert_array_equal(again[1], G)


@pytest.mark.gpu
def test_every_op_family_on_the_device_matches_its_host_run():
    # the models of tests/test_device_executor.py, one per op family beyond W1-W5's, on the real device
    from device_models import op_family_models
    for code, m in sorted(op_family_models().items()):
        X = np.random.default_rng(code).normal(scale=0.7, size=(16, m.dim))
        lp, G = _backend.cuda_module().ProgramDevice(m.compiled.program, 16).logp_and_grad(X)
        host = m.compiled.program.logp_and_grad_grid(X)
        np.testing.assert_allclose(lp, host[0], rtol=1e-10, atol=1e-10, err_msg=f"op {code}")
        np.testing.assert_allclose(G, host[1], rtol=1e-10, atol=1e-10, err_msg=f"op {code}")


@pytest.mark.gpu
def test_program_device_refuses_bad_input():
    m = _workload("W1")
    dev = _backend.cuda_module().ProgramDevice(m.compiled.program, 4)
    with pytest.raises(ValueError, match="points must have shape"):
        dev.logp_and_grad(np.zeros((3, m.dim)))
    with pytest.raises(ValueError, match="lanes must be >= 1"):
        _backend.cuda_module().ProgramDevice(m.compiled.program, 0)


@pytest.mark.gpu
def test_devices_built_with_share_read_one_copy_and_compute_the_same():
    # NUTS with device="cuda": one single-lane device per chain over one copy of the model's data
    from helpers import assert_devices_share_data
    first = assert_devices_share_data(_backend.cuda_module().ProgramDevice, _workload("W2"),
                                      refused="holds another program's data")
    assert first.data_bytes > first.workspace_bytes


@pytest.mark.gpu
def test_chees_samples_on_the_device(monkeypatch):
    import warnings
    from brr_bayes.infer import runner
    made, real = [], runner.device_evaluator
    monkeypatch.setattr(runner, "device_evaluator", lambda *a: made.append(real(*a)) or made[-1])
    m = _workload("W1")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = bb.sample(m, sampler="chees", chains=64, tune=400, draws=100, seed=1, device="cuda", progressbar=False)
    assert res.config["device"] == "cuda"
    assert made[0].trajectories >= 500   # every trajectory's leapfrog steps ran on the GPU
    assert np.isfinite(res.unconstrained).all()
    assert abs(float(res.posterior["mu"].mean()) - 4.4) < 1.5   # eight schools: mu's posterior mean is about 4.4


@pytest.mark.gpu
def test_cupy_arrays_as_data_give_the_numpy_model():
    cp = pytest.importorskip("cupy", reason="needs CuPy (pip install '.[gpu]')")
    rng = np.random.default_rng(3)
    g, X, y = rng.integers(0, 5, 60), rng.normal(size=(60, 2)), rng.normal(size=60)

    def build(wrap):
        with bb.Model() as m:
            beta = bb.Normal("beta", 0, 1, shape=2)
            z = bb.Normal("z", 0, 1, shape=5)
            bb.Normal("y", wrap(X) @ beta + z[wrap(g)], 1.0, observed=wrap(y))
        return m
    x = rng.normal(size=7)
    host, dev = build(lambda a: a).logp_and_grad(x), build(cp.asarray).logp_and_grad(x)
    assert host[0] == dev[0] and np.array_equal(host[1], dev[1])
