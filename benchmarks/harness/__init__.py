"""Benchmark runner behind `python benchmarks/run.py`: logp+gradient throughput and sampling efficiency on
the reference workloads W1-W5, with peers (NumPyro, nutpie, Stan) measured in the same run: logp+gradient
throughput alternating and repeated with medians reported, sampling one run per engine in turn.
"""
from __future__ import annotations

import os
import pathlib
import platform
import statistics
import time
import warnings

import numpy as np

import workloads as wl
from brr_bayes.infer.convergence import ess_bulk, rhat


def _evals_per_s(fn, min_time=0.2):
    """Calls fn() in batches until min_time has passed; returns calls per second."""
    n, t = 1, 0.0
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        t = time.perf_counter() - t0
        if t >= min_time:
            return n / t
        n *= 2 if t < min_time / 4 else 1
        n = max(n, int(n * min_time / max(t, 1e-9)))


def _alternate(fns, repeats):
    """Median calls/s of each fn, measured in alternation so that machine noise hits all alike."""
    got = {k: [] for k in fns}
    for _ in range(repeats):
        for k, f in fns.items():
            got[k].append(_evals_per_s(f))
    return {k: statistics.median(v) for k, v in got.items()}


def _data(name, n_w2):
    return {"W1": wl.make_w1, "W2": lambda: wl.make_w2(n_w2), "W3": wl.make_w3, "W4": wl.make_w4,
            "W5": wl.make_w5}[name]()


def _brr_model(name, d):
    return {"W1": wl.eight_schools, "W2": wl.mrp_logit, "W3": wl.bym2, "W4": wl.poll_rw, "W5": wl.radon}[name](d)


def _numpy_pass(d):
    """Baseline: one streaming read of W2's index arrays with numpy (GB/s), the memory-bound floor."""
    arrays = [d[k] for k in ("state", "age", "race", "edu", "region", "state_race", "age_edu", "female", "y")]
    nbytes = sum(a.nbytes for a in arrays)
    rate = _evals_per_s(lambda: [int(a.sum()) for a in arrays])
    return rate * nbytes / 1e9


def _min_bulk_ess(post, names):
    """Min bulk-ESS (rank-normalised, ArviZ's values to 1e-10: tests/test_convergence.py) over every element
    of the named variables. Vectorised over parameters: ArviZ's one-parameter-at-a-time loop took longer
    than the sampling on many-chain runs of thousands of parameters."""
    return min(float(np.nanmin(ess_bulk(np.asarray(post[k])))) for k in names)


def write_table(lines, out=None):
    """Print a benchmark's markdown table and, with ``out``, write it to that file too."""
    text = "\n".join(lines)
    if out:
        pathlib.Path(out).write_text(text + "\n")
    print(text)


def _max_rhat(post, names):
    """Max rank-normalised split R-hat (ArviZ's values) over every element of the named variables."""
    return max(float(np.nanmax(rhat(np.asarray(post[k])))) for k in names)


def _max_nested_rhat(result, names):
    """Max nested R-hat (result.nested_rhat(): the check for many short chains) over every element of the
    named variables."""
    return max(float(np.max(v)) for k, v in result.nested_rhat().items() if k in names)


def main(quick=False, workloads="W1,W2,W3,W4,W5", out=None, peers=True, sampling=True, repeats=None,
         w2_sampling_rows=10_000, logp=True, peer_names="numpyro,nutpie,stan", metrics="diag",
         adapts="default"):
    os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=4")
    names = [w.strip().upper() for w in workloads.split(",") if w.strip()]
    repeats = repeats or (3 if quick else 7)
    npy = pym = stan = None
    wanted = {p.strip().lower() for p in peer_names.split(",") if p.strip()}
    metrics = [m.strip() for m in metrics.split(",") if m.strip()] or ["diag"]
    adapts = [a.strip() for a in adapts.split(",") if a.strip()] or ["default"]
    if peers and "numpyro" in wanted:
        try:
            import jax
            jax.config.update("jax_enable_x64", True)
            from . import peers_numpyro
            npy = peers_numpyro.models()
        except ImportError:
            print("NumPyro not installed: skipped (pip install '.[peers]')")
    if peers and "nutpie" in wanted:
        try:
            import nutpie  # noqa: F401
            import pymc  # noqa: F401
            from . import peers_pymc
            pym = peers_pymc.models()
        except ImportError:
            print("nutpie/PyMC not installed: skipped (pip install '.[peers]')")
    if peers and "stan" in wanted:
        from . import peers_stan
        stan, why = peers_stan.backend()
        print(f"Stan: {why}" if stan else f"Stan: skipped ({why})")

    lines = [f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
             "", "## logp + gradient evaluations per second (median of alternating repeats)", "",
             "brr_bayes (loop): evaluations inside the C++ loop, as the sampler makes them. brr_bayes (call) and",
             "NumPyro: one Python call per evaluation (NumPyro: jax.jit(value_and_grad)). nutpie: its compiled",
             "numba logp called through ctypes, the measured cost of an empty ctypes call subtracted. Stan has no",
             "in-process gradient call here (cmdstanpy and PyStan evaluate it through a subprocess or HTTP), so it",
             "appears in the sampling table only.", "",
             "| workload | dim | brr_bayes (loop) | brr_bayes (call) | NumPyro | nutpie | ratio to best peer |",
             "|---|---|---|---|---|---|---|"]
    sizes = {"W2": [10_000, 100_000] + ([] if quick else [1_000_000])}
    for w in names if logp else []:
        for n in sizes.get(w, [None]):
            d = _data(w, n or 100_000)
            model = _brr_model(w, d)
            x = np.zeros(model.dim)
            prog = model.compiled.program
            fns = {"call": lambda: prog.logp_and_grad(x)}
            overhead = {}
            if npy:
                from .peers_numpyro import logp_grad_fn
                f, dim = logp_grad_fn(npy[w](d))
                xj = np.zeros(dim)
                f(xj)[1].block_until_ready()
                fns["numpyro"] = lambda f=f, xj=xj: f(xj)[1].block_until_ready()
            if pym:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    compiled = peers_pymc.compile_model(pym[w](d))
                call, overhead["nutpie"] = peers_pymc.logp_grad_call(compiled)
                fns["nutpie"] = call
            r = _alternate(fns, repeats)
            loop = []
            for _ in range(repeats):
                k = max(1, int(0.2 * r["call"]))
                t0 = time.perf_counter()
                prog.benchmark(x, k)
                loop.append(k / (time.perf_counter() - t0))
            r["loop"] = statistics.median(loop)
            if "nutpie" in r:
                r["nutpie"] = 1.0 / max(1.0 / r["nutpie"] - overhead["nutpie"], 1e-12)
            label = f"{w}" + (f" (N={n:,})" if n else "")
            peers_r = [r[k] for k in ("numpyro", "nutpie") if k in r]
            ratio = f"{r['loop'] / max(peers_r):.1f}x" if peers_r else "-"
            cell = lambda k: f"{r[k]:,.0f}" if k in r else "-"  # noqa: E731
            lines.append(f"| {label} | {model.dim} | {cell('loop')} | {cell('call')} | {cell('numpyro')} | "
                         f"{cell('nutpie')} | {ratio} |")
            print(lines[-1], flush=True)
            if w == "W2":
                gbs = _numpy_pass(d)
                per_eval_gb = sum(d[k].nbytes for k in ("state", "age", "race", "edu", "region", "state_race",
                                                        "age_edu", "female", "y")) / 1e9
                lines.append(f"|   W2 index arrays: numpy streaming pass {gbs:.1f} GB/s; brr_bayes gradient "
                             f"{r['loop'] * per_eval_gb:.1f} GB/s-equivalent (rows compressed to cells) | | | | | | |")
    if sampling:
        import brr_bayes as bb
        lines += ["", "## Sampling: 4 chains x 1000 warm-up + 1000 draws, target_accept 0.8", "",
                  "wall s is the whole sampling call. Compilation is excluded for brr_bayes, nutpie and Stan (Stan's",
                  "is printed beside); NumPyro compiles inside its sampling call, so its JIT time is included.",
                  "ESS/s ratio: a peer row gives brr_bayes's (default metric) min bulk-ESS/s over the peer's;",
                  "a brr_bayes row gives its ESS/s over the best peer's.", "",
                  "| workload | engine | wall s | min bulk-ESS | ESS/s | max R-hat | divergences | ESS/s ratio |",
                  "|---|---|---|---|---|---|---|---|"]
        for w in names:
            d = _data(w, 10_000 if quick else w2_sampling_rows)
            model = _brr_model(w, d)
            params = model.param_names
            label = w + (f" (N={d['y'].size:,})" if w == "W2" else "")
            rows = []
            for metric in metrics:
                for adapt in adapts:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        res = bb.sample(model, seed=1, progressbar=False, metric=metric,
                                        adapt=None if adapt == "default" else adapt)
                    opts = ([] if metric == "diag" else [f"metric='{metric}'"]) + \
                        ([] if adapt == "default" else [f"adapt='{adapt}'"])
                    rows.append(("brr_bayes" + (f" ({', '.join(opts)})" if opts else ""),
                                 dict(s=res.seconds, ess=_min_bulk_ess(res.posterior, params),
                                      rhat=_max_rhat(res.posterior, params),
                                      div=int(res.sample_stats["diverging"].sum()))))
            n_brr = len(rows)
            if npy:
                from .peers_numpyro import sample as np_sample
                secs, post, div = np_sample(npy[w](d), seed=1)
                rows.append(("NumPyro", dict(s=secs, ess=_min_bulk_ess(post, params), rhat=_max_rhat(post, params),
                                             div=div)))
            if pym:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    compiled = peers_pymc.compile_model(pym[w](d))
                    secs, post, div = peers_pymc.sample(compiled, seed=1)
                rows.append(("nutpie", dict(s=secs, ess=_min_bulk_ess(post, params), rhat=_max_rhat(post, params),
                                            div=div)))
            if stan:
                from . import peers_stan
                compile_s, secs, post, div = peers_stan.sample(w, d, seed=1)
                rows.append((f"Stan ({stan})", dict(s=secs, ess=_min_bulk_ess(post, params),
                                                    rhat=_max_rhat(post, params), div=div)))
                print(f"   Stan compile: {compile_s:.0f} s (not in wall s)", flush=True)
            rate = [m["ess"] / m["s"] for _, m in rows]
            best_peer = max(rate[n_brr:], default=None)
            for k, (eng, m) in enumerate(rows):
                if k < n_brr:  # our rows: against the best peer; peer rows: our default against them
                    ratio = f"{rate[k] / best_peer:.1f}x best peer" if best_peer else ""
                else:
                    ratio = f"{rate[0] / rate[k]:.1f}x"
                lines.append(f"| {label} | {eng} | {m['s']:.1f} | {m['ess']:.0f} | {rate[k]:.1f} | "
                             f"{m['rhat']:.3f} | {m['div']} | {ratio} |")
                print(lines[-1], flush=True)
    text = "\n".join(lines)
    if out:
        with open(out, "w") as fh:
            fh.write(text + "\n")
    print(text)
    return 0
