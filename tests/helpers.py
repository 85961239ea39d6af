"""Test helpers: finite-difference gradients, a tolerance that means "relative error < tol", and the slow
regression the interrupt, checkpoint and cluster tests stop part-way."""
import numpy as np


def fd_grad(f, x, h=1e-4):
    """5-point central differences (error O(h^4))."""
    x = np.asarray(x, dtype=np.float64)
    g = np.empty_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (f(x - 2 * e) - 8 * f(x - e) + 8 * f(x + e) - f(x + 2 * e)) / (12 * h)
    return g


def assert_grad(model, x, rtol=1e-6, h=1e-4):
    """The model's gradient matches finite differences: |g - fd| <= rtol * max(1, |g|) elementwise."""
    lp, g = model.logp_and_grad(x)
    assert np.isfinite(lp)
    fd = fd_grad(model.logp, x, h)
    err = np.abs(g - fd) / np.maximum(1.0, np.abs(g))
    assert err.max() < rtol, f"gradient mismatch: max rel err {err.max():.2e}\n g={g}\nfd={fd}"
    assert_batch_matches(model, x)
    return lp, g


def assert_batch_matches(model, x, lanes=9, spread=1e-2):
    """The batch executor gives each row what a scalar evaluation gives it, bit for bit: rows near x
    through lane kernels in tiles of 8 (one full tile, one partial) and of 2, and one scalar call per row."""
    X = np.asarray(x, dtype=np.float64)[None, :] + spread * np.arange(lanes)[:, None] * np.cos(np.arange(len(x)))
    rows = [model.logp_and_grad(X[b]) for b in range(lanes)]
    lp = np.array([r[0] for r in rows])
    G = np.array([r[1] for r in rows]).reshape(lanes, -1)
    program = model.compiled.program
    for tile, threads in ((8, 1), (2, 2), (-1, 1)):
        blp, bG = program.logp_and_grad_batch(X, threads, True, tile)
        np.testing.assert_array_equal(blp, lp, err_msg=f"batch logp differs (tile {tile}, threads {threads})")
        np.testing.assert_array_equal(bG, G, err_msg=f"batch gradient differs (tile {tile}, threads {threads})")
    if not program.device_unsupported_ops():   # the device executor's kernels, run on the host
        assert_grid_matches(model, X, rtol=1e-10, expected=(lp, G))


def assert_grid_matches(model, X, rtol, expected=None):
    """The device executor's kernels (run on the host) agree with the scalar executor at the rows of X:
    |a - b| <= rtol * max(1, |b|), with infinities equal."""
    if expected is None:
        rows = [model.logp_and_grad(x) for x in X]
        expected = (np.array([r[0] for r in rows]), np.array([r[1] for r in rows]).reshape(len(X), -1))
    lp, G = model.compiled.program.logp_and_grad_grid(np.ascontiguousarray(X, dtype=np.float64))
    for got, want, what in ((lp, expected[0], "logp"), (G, expected[1], "gradient")):
        finite = np.isfinite(want)
        np.testing.assert_array_equal(got[~finite], want[~finite], err_msg=f"device {what}: non-finite values differ")
        err = np.abs(got[finite] - want[finite]) / np.maximum(1.0, np.abs(want[finite]))
        assert err.size == 0 or err.max() <= rtol, f"device {what} differs: max rel err {err.max():.2e}"


def rel_close(a, b, rtol):
    return abs(a - b) <= rtol * max(1.0, abs(b))


def regression(seed=0, n=100_000):
    """y = 1 + 2x + noise over n rows with a continuous predictor: nothing to compress, ~1 ms an
    iteration, so a watcher's ~0.05 s of latency moves an interruption by tens of iterations only."""
    import brr_bayes as bb
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    y = 1 + 2 * x + rng.normal(size=n)
    with bb.Model() as m:
        a = bb.Normal("a", 0, 5)
        b = bb.Normal("b", 0, 5)
        s = bb.HalfNormal("s", 2)
        bb.Normal("y", a + b * x, s, observed=y)
    return m


def sample_interrupted(model, monkeypatch, when, **kw):
    """bb.sample(model, **kw) with Ctrl-C pressed (SIGINT to the main thread) as soon as
    ``when([iterations done per chain])`` holds; returns (result, the progress seen, warnings)."""
    import _thread
    import signal
    import threading
    import time
    import warnings

    import brr_bayes as bb
    from brr_bayes import _backend
    core = _backend.core()
    real = core.start_sampling
    live = {}

    def spy(*args):
        live["run"] = real(*args)
        return live["run"]

    def watch():
        deadline = time.time() + 60
        while time.time() < deadline:
            run = live.get("run")
            if run is not None:
                if run.finished():
                    return
                live["last"] = [p["done"] for p in run.progress()]
                if when(live["last"]):
                    _thread.interrupt_main()
                    return
            time.sleep(0.001)

    monkeypatch.setattr(core, "start_sampling", spy)
    # a process started in the background inherits SIGINT as ignored: install Python's handler
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    watcher = threading.Thread(target=watch, daemon=True)
    try:
        watcher.start()
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            part = bb.sample(model, **kw)
    finally:
        watcher.join()
        signal.signal(signal.SIGINT, previous)
        monkeypatch.setattr(core, "start_sampling", real)
    return part, live.get("last"), seen


def workloads():
    """{name: (make data, build model)} for W1-W5 (W2 at 20,000 rows)."""
    from workloads import data, models
    return {"W1": (data.make_w1, models.eight_schools), "W2": (lambda: data.make_w2(20_000), models.mrp_logit),
            "W3": (data.make_w3, models.bym2), "W4": (data.make_w4, models.poll_rw), "W5": (data.make_w5, models.radon)}


def assert_devices_share_data(make, model, refused):
    """Device evaluators built with share= (``make(program, lanes, share=)``: HostGridDevice or the CUDA
    ProgramDevice) read one copy of the model's data and give an unshared evaluator's bits; one of
    another program's data is refused with a message matching ``refused``. Returns the first (the data's owner)."""
    import pytest
    import brr_bayes as bb
    program = model.compiled.program
    own = make(program, 1)
    shared = [own] + [make(program, 1, share=own) for _ in range(3)]
    alone = make(program, 1)
    assert all(d.shares_data_with(own) for d in shared) and not alone.shares_data_with(own)
    assert all(d.data_bytes == own.data_bytes for d in shared)
    x = np.random.default_rng(3).normal(scale=0.3, size=(1, model.dim))
    ref_lp, ref_g = alone.logp_and_grad(x)
    for d in shared:
        lp, g = d.logp_and_grad(x)
        np.testing.assert_array_equal(lp, ref_lp)
        np.testing.assert_array_equal(g, ref_g)
    with bb.Model() as other:
        bb.Normal("a", 0, 1)
    with pytest.raises(ValueError, match=refused):
        make(other.compiled.program, 1, share=own)
    return own
