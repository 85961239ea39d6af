"""GPU arrays as model data: anything exposing __cuda_array_interface__ (CuPy, Numba, PyTorch) is read
once into the Program, with the same result as the numpy array it holds. A stand-in mimics CuPy's
behaviour (no implicit numpy conversion, deferring to operands of higher __array_priority__), so this
runs without a GPU; tests/test_cuda.py repeats it with real CuPy where one is installed."""
import numpy as np
import pytest

import brr_bayes as bb


class FakeCupy:
    """CuPy's surface that matters here: __cuda_array_interface__, .get(), and np.asarray refused."""
    __array_priority__ = 100   # below Expr's, as CuPy's ndarray is

    def __init__(self, a):
        self._a = np.asarray(a)
        self.shape, self.dtype = self._a.shape, self._a.dtype

    @property
    def __cuda_array_interface__(self):
        return {"shape": self.shape, "typestr": self.dtype.str, "data": (0, True), "version": 3}

    def __array__(self, *args, **kwargs):
        raise TypeError("Implicit conversion to a NumPy array is not allowed. Please use `.get()`")

    def get(self):
        return self._a.copy()

    def _defer(self, other):
        return NotImplemented if getattr(other, "__array_priority__", 0) > self.__array_priority__ else None

    def __mul__(self, other):
        return self._defer(other)

    def __matmul__(self, other):
        return self._defer(other)


def _model(wrap):
    rng = np.random.default_rng(3)
    g = rng.integers(0, 5, 60)
    X = rng.normal(size=(60, 2))
    y = rng.normal(size=60)
    with bb.Model() as m:
        beta = bb.Normal("beta", 0, 1, shape=2)
        z = bb.Normal("z", 0, 1, shape=5)
        s = bb.HalfNormal("s", 1)
        eta = wrap(X) @ beta + s * z[wrap(g)] + wrap(np.full(60, 0.5)) * s
        bb.Normal("y", eta, 1.0, observed=wrap(y))
    return m


def test_gpu_arrays_as_data_give_the_numpy_model():
    host, dev = _model(lambda a: a), _model(FakeCupy)
    x = np.random.default_rng(0).normal(size=host.dim)
    lp_h, g_h = host.logp_and_grad(x)
    lp_d, g_d = dev.logp_and_grad(x)
    assert lp_d == lp_h and np.array_equal(g_d, g_h)


def test_a_gpu_array_without_a_copy_method_is_refused_by_name():
    class Bare:
        __cuda_array_interface__ = {"shape": (3,), "typestr": "<f8", "data": (0, True), "version": 3}
    with bb.Model():
        with pytest.raises(TypeError, match=r"Bare \(a GPU array\).*cupy.asnumpy"):
            bb.Normal("y", 0, 1, observed=Bare())
