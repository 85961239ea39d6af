"""Survey rows that cannot be merged (issue 35): an individual-level continuous predictor makes every row
distinct, so the GLM visits every row. The model is written as a Stan or PyMC user writes it: a row-level
predictor matrix X @ b (a 0/1 column and a continuous score), a state-level covariate repeated over rows,
and sigma * z[idx] for five group effects (274 parameters). brr_bayes and NumPyro (same code, jitted
value-and-grad, float64) are timed in one process, alternating, and the gradient's cost per row is set
against the machine's floor: the bytes a row the fused pass reads over one core's streaming read bandwidth.

    python benchmarks/unmerged_rows.py                        # 50,000 and 1,000,000 rows
    python benchmarks/unmerged_rows.py --rows 50000 --sample  # also the 4 x (1000 + 1000) fit
NumPyro runs when it imports (e.g. PYTHONPATH=. /path/to/peers-venv/bin/python benchmarks/unmerged_rows.py).
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import brr_bayes as bb
from brr_bayes._backend import default_cores
from harness import _alternate

BLOCKS = [("state", 50, 0.30), ("age", 6, 0.20), ("race", 4, 0.30), ("edu", 5, 0.20), ("state_race", 200, 0.15)]
TRUE = dict(alpha=-0.3, b=np.array([0.2, 0.5]), gamma=0.4)


def make_data(n, seed=7):
    """n respondents: group ids, a 0/1 column and a continuous score per row, a state covariate."""
    rng = np.random.default_rng(seed)
    ids = {"state": rng.integers(0, 50, n), "age": rng.integers(0, 6, n), "race": rng.integers(0, 4, n),
           "edu": rng.integers(0, 5, n)}
    ids["state_race"] = ids["state"] * 4 + ids["race"]
    zs = rng.normal(size=50)
    X = np.column_stack([rng.integers(0, 2, n).astype(float), rng.normal(size=n)])
    effects = {name: s * rng.normal(size=L) for name, L, s in BLOCKS}
    eta = TRUE["alpha"] + X @ TRUE["b"] + TRUE["gamma"] * zs[ids["state"]]
    for name, _, _ in BLOCKS:
        eta = eta + effects[name][ids[name]]
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-eta))).astype(np.int64)
    return dict(ids=ids, X=X, zs_rows=zs[ids["state"]], y=y, effects=effects)


def build_model(d):
    """The model as a modeller writes it (no merging possible: the score is continuous)."""
    with bb.Model() as m:
        alpha = bb.Normal("alpha", 0, 2.5)
        b = bb.Normal("b", 0, 1, shape=2)
        gamma = bb.Normal("gamma", 0, 1)
        eta = alpha + d["X"] @ b + gamma * d["zs_rows"]
        for name, L, _ in BLOCKS:
            sigma = bb.HalfNormal(f"sigma_{name}", 1)
            z = bb.Normal(f"z_{name}", 0, 1, shape=L)
            eta = eta + sigma * z[d["ids"][name]]
        bb.Bernoulli("y", logit_p=eta, observed=d["y"])
    return m


def numpyro_fn(d):
    """NumPyro's jitted value-and-grad of the same model, or None when NumPyro is not installed."""
    try:
        import jax
        import jax.numpy as jnp
        import numpyro
        import numpyro.distributions as dist
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    from harness.peers_numpyro import logp_grad_fn
    X, zs, y = jnp.asarray(d["X"]), jnp.asarray(d["zs_rows"]), jnp.asarray(d["y"])
    ids = {k: jnp.asarray(v) for k, v in d["ids"].items()}

    def model():
        alpha = numpyro.sample("alpha", dist.Normal(0, 2.5))
        b = numpyro.sample("b", dist.Normal(0, 1).expand([2]))
        gamma = numpyro.sample("gamma", dist.Normal(0, 1))
        eta = alpha + X @ b + gamma * zs
        for name, L, _ in BLOCKS:
            sigma = numpyro.sample(f"sigma_{name}", dist.HalfNormal(1))
            z = numpyro.sample(f"z_{name}", dist.Normal(0, 1).expand([L]))
            eta = eta + sigma * z[ids[name]]
        numpyro.sample("y", dist.Bernoulli(logits=eta), obs=y)

    f, _ = logp_grad_fn(model)
    return lambda x: f(x)[1].block_until_ready()


def read_bandwidth(nbytes=256 << 20, repeats=5):
    """One core's streaming read bandwidth, bytes/s: numpy's sum over an array far larger than the caches."""
    a = np.ones(nbytes // 8)
    best = min(_timed(a.sum) for _ in range(repeats))
    return a.nbytes / best


def _timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def row_bytes(m):
    """Bytes a row of the model's GLM op as its CPU kernel reads them (explain()'s figure)."""
    (row,) = [r for r in m.explain().ops if r["op"] == "glm"]
    return int(row["detail"].split("; ")[1].split()[0])


def measure(n, rounds, bandwidth):
    d = make_data(n)
    m = build_model(d)
    prog = m.compiled.program
    x = np.zeros(m.dim)
    peers = numpyro_fn(d)
    cores = default_cores()
    fns = {"brr_bayes, 1 row thread": lambda: prog.logp_and_grad(x, row_threads=1),
           f"brr_bayes, {cores} row threads (default)": lambda: m.logp_and_grad(x)}
    if peers is not None:
        xn = np.zeros(m.dim)
        fns["NumPyro (XLA threads)"] = lambda: peers(xn)
    med = _alternate(fns, rounds)   # alternating: another process's load slows every engine alike
    b = row_bytes(m)
    floor_ns = b / bandwidth * 1e9
    print(f"\n{n:,} rows, {m.dim} parameters; GLM row data {b} bytes a row; floor {floor_ns:.2f} ns/row "
          f"({b} B over {bandwidth / 1e9:.1f} GB/s, one core); median of {rounds} alternating rounds")
    print("| engine | logp+grad/s | ns/row | x floor | brr_bayes default / this |")
    print("|---|---:|---:|---:|---:|")
    best = med[f"brr_bayes, {cores} row threads (default)"]
    for k, r in med.items():
        ns = 1e9 / r / n
        print(f"| {k} | {r:,.0f} | {ns:.2f} | {ns / floor_ns:.1f} | {best / r:.2f}x |")
    return m, d


def sample(m, d, seed=1):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = bb.sample(m, draws=1000, tune=1000, chains=4, seed=seed, progressbar=False)
    s = res.summary()
    print(f"\n4 x (1000 + 1000), seed {seed}: {res.seconds:.1f} s, min bulk-ESS {s['ess_bulk'].min():.0f}, "
          f"max R-hat {s['r_hat'].max():.3f}, divergences {sum(res.divergences().values())}")
    post = res.posterior
    for name, true in (("alpha", TRUE["alpha"]), ("gamma", TRUE["gamma"])):
        v = np.asarray(post[name])
        print(f"  {name}: {v.mean():.3f} +- {v.std():.3f} (true {true})")
    b = np.asarray(post["b"]).reshape(-1, 2)
    print(f"  b: {b.mean(0).round(3)} +- {b.std(0).round(3)} (true {TRUE['b']})")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, nargs="+", default=[50_000, 1_000_000])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--sample", action="store_true", help="also fit the model (4 chains x (1000 + 1000))")
    a = ap.parse_args()
    bw = read_bandwidth()
    for n in a.rows:
        m, d = measure(n, a.rounds, bw)
        if a.sample:
            sample(m, d)


if __name__ == "__main__":
    main()
