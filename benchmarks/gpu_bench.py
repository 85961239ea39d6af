"""The GPU benchmark the device check runs (benchmarks/gpu_check.sh): logp+gradient evaluations of whole
workload programs on the device executor (brr_bayes._cuda.ProgramDevice) against the CPU here, and W2 at
10M rows uncompressed as bandwidth: bytes of row data read per evaluation x evaluations per second, over
the device's own measured copy bandwidth (CuPy device-to-device copy, bytes read + written).

    python benchmarks/gpu_bench.py [--rows 10000000] [--lanes 1,256] [--sampling W3,W4] [--out FILE]

Then the seconds of one ChEES trajectory (256 chains x 32 leapfrog steps) with one device evaluation per
step, points and gradients crossing each time, against the whole trajectory on the device (leapfrog()).
Then sampling, min bulk-ESS per second: 256-chain ChEES on the device against 4-chain NUTS on the CPU
(W3, W4; the issue's target is 2x), and NUTS with each chain on the device against NUTS on the CPU for
W2 at --nuts-rows rows uncompressed. Only for a machine with a GPU; every figure it prints is measured
in that run (--host: a dry run of the script with the host-emulated kernels, figures meaningless).
"""
import argparse
import time

import numpy as np

import brr_bayes as bb
from brr_bayes import _backend
import workloads as wl
from harness import _max_nested_rhat, _max_rhat, _min_bulk_ess, write_table


def timed(f, seconds=1.0):
    f()
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        f()
        n += 1
    return n / (time.perf_counter() - t0)


def copy_bandwidth():
    try:
        import cupy as cp
    except ImportError:
        return None
    a = cp.ones(2 ** 28, dtype=cp.float64)   # 2 GiB
    b = cp.empty_like(a)
    b[...] = a
    cp.cuda.Device().synchronize()
    reps, t0 = 10, time.perf_counter()
    for _ in range(reps):
        b[...] = a
    cp.cuda.Device().synchronize()
    return 2 * a.nbytes * reps / (time.perf_counter() - t0)


def row_bytes(program, rows):
    """Bytes of the program's data (float64) and index arrays (int32) with one entry per likelihood row:
    what one evaluation must read at least."""
    data = sum(8 * rows for s in range(program.num_slots) if program.slot_size(s) == rows)
    return data + sum(4 * n for n in program.index_sizes() if n == rows)


def sampled(model, **kw):
    """(min bulk-ESS per second of sampling, max R-hat, max nested R-hat (many-chain runs; NaN for
    NUTS), seconds) of one run."""
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = bb.sample(model, progressbar=False, **kw)
    ess = _min_bulk_ess(r.posterior, model.param_names)
    nested = float("nan")
    if kw.get("sampler", "nuts") != "nuts":
        nested = _max_nested_rhat(r, model.param_names)
    return ess / r.seconds, _max_rhat(r.posterior, model.param_names), nested, r.seconds


# ChEES warm-up (CPU, 64 chains): W3 settled in 300 (session 13); W4 converged in 300 once the
# trajectory followed the widest direction (session 15: nested R-hat 1.001; 1,000 were needed before)
CHEES_TUNE = 300


def sampling_table(names, nuts_rows, device, quick, cores, chees_tune=None):
    """Rows comparing device runs with CPU NUTS, printed as each is measured (a timeout keeps the rest).
    ChEES's warm-up: chees_tune, or CHEES_TUNE. A ChEES run converged where its
    nested R-hat (the check for many short chains) is below 1.01; its ESS/s means nothing otherwise."""
    it = dict(tune=100, draws=100) if quick else {}
    lines = ["", "| run | device run | min ESS/s device | min ESS/s CPU NUTS | device / CPU | max R-hat device / CPU "
             "| max nested R-hat device |", "|---|---|---:|---:|---:|---|---:|"]
    print("\n".join(lines), flush=True)
    build = {"W3": lambda: wl.bym2(wl.make_w3()), "W4": lambda: wl.poll_rw(wl.make_w4())}
    for name in [n for n in names.split(",") if n]:
        m = build[name]()
        cpu = sampled(m, chains=4, cores=cores, seed=1, **it)
        tune = it.get("tune", chees_tune or CHEES_TUNE)
        dev = sampled(m, sampler="chees", chains=256, seed=1, device=device, tune=tune, draws=it.get("draws", 200))
        lines.append(f"| {name} | ChEES 256 chains x ({tune} + {it.get('draws', 200)}) | {dev[0]:,.1f} "
                     f"| {cpu[0]:,.1f} | {dev[0] / cpu[0]:.2f}x | {dev[1]:.3f} / {cpu[1]:.3f} | {dev[2]:.3f} |")
        print(lines[-1], flush=True)
    if nuts_rows:
        m = wl.mrp_logit(wl.make_w2(nuts_rows))
        m.compile_options = bb.CompileOptions(compress=False)
        kw = dict(chains=4, cores=cores, seed=1, tune=it.get("tune", 300), draws=it.get("draws", 300))
        cpu = sampled(m, **kw)
        dev = sampled(m, device=device, **kw)
        lines.append(f"| W2 {nuts_rows:,} rows uncompressed | NUTS 4 chains, each on the device | {dev[0]:,.2f} "
                     f"| {cpu[0]:,.2f} | {dev[0] / cpu[0]:.2f}x | {dev[1]:.3f} / {cpu[1]:.3f} | |")
        print(lines[-1], flush=True)
    return lines


def trajectory_table(Device, models, lanes, steps):
    """A ChEES trajectory of `steps` leapfrog steps for `lanes` chains: one device evaluation per step with
    the points and gradients crossing each time (the host loop), against the whole trajectory on the
    device (leapfrog(): only its ends cross). Seconds per trajectory, best of 3."""
    lines = ["", f"| workload | {lanes} chains x {steps} leapfrog steps | host loop s | on device s | host / device |",
             "|---|---|---:|---:|---:|"]
    print("\n".join(lines), flush=True)
    for name, m in models.items():
        rng = np.random.default_rng(0)
        q = rng.normal(scale=0.3, size=(lanes, m.dim))
        dev = Device(m.compiled.program, lanes)
        lp, g = dev.logp_and_grad(q)
        p, minv = rng.normal(size=q.shape), np.ones(m.dim)

        def host_loop():
            for _ in range(steps):
                dev.logp_and_grad(q)

        def on_device():
            dev.leapfrog(q, p, g, lp, minv, 1e-3, steps)

        t_host = min(timeit(host_loop) for _ in range(3))
        t_dev = min(timeit(on_device) for _ in range(3))
        lines.append(f"| {name} | {m.dim:,} parameters | {t_host:.4f} | {t_dev:.4f} | {t_host / t_dev:.2f}x |")
        print(lines[-1], flush=True)
    return lines


def timeit(f):
    t0 = time.perf_counter()
    f()
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--lanes", default="1,256")
    ap.add_argument("--out", default=None)
    ap.add_argument("--sampling", default="W3,W4", help="workloads for 256-chain ChEES on the device ('' for none)")
    ap.add_argument("--nuts-rows", type=int, default=1_000_000, help="W2 rows for NUTS on the device (0: skip)")
    ap.add_argument("--chees-tune", type=int, default=None,
                    help=f"ChEES warm-up iterations in the sampling table (default {CHEES_TUNE})")
    ap.add_argument("--host", action="store_true", help="dry run without a GPU (host kernels; figures meaningless)")
    args = ap.parse_args()
    # --host: a dry run of this script, the device kernels on the host (same calls), no GPU figures
    Device = _backend.core().HostGridDevice if args.host else _backend.cuda_module().ProgramDevice
    lines = ["| workload | lanes | CPU evals/s (per point, 1 thread) | GPU evals/s (per point) | GPU / CPU |",
             "|---|---:|---:|---:|---:|"]
    models = {"W1": wl.eight_schools(wl.make_w1()), "W2 100k": wl.mrp_logit(wl.make_w2()), "W3": wl.bym2(wl.make_w3()),
              "W4": wl.poll_rw(wl.make_w4()), "W5": wl.radon(wl.make_w5())}
    for name, m in models.items():
        p = m.compiled.program
        for lanes in (int(v) for v in args.lanes.split(",")):
            X = np.random.default_rng(0).normal(scale=0.3, size=(lanes, m.dim))
            cpu = 2000 / p.benchmark_batch(X[:1], 2000, 1, -1)["seconds"]
            dev = Device(p, lanes)
            gpu = timed(lambda: dev.logp_and_grad(X)) * lanes
            lines.append(f"| {name} | {lanes} | {cpu:,.0f} | {gpu:,.0f} | {gpu / cpu:.2f}x |")
            print(lines[-1], flush=True)
    lines += trajectory_table(Device, {k: models[k] for k in ("W3", "W4")}, lanes=256, steps=32)
    bw = None if args.host else copy_bandwidth()
    d = wl.make_w2(args.rows)
    m = wl.mrp_logit(d)
    m.compile_options = bb.CompileOptions(compress=False)
    p = m.compiled.program
    dev = Device(p, 1)
    x = np.zeros((1, m.dim))
    rate = timed(lambda: dev.logp_and_grad(x), 3.0)
    moved = row_bytes(p, args.rows) * rate
    lines += ["", f"W2 at {args.rows:,} rows, uncompressed, 1 point: {rate:,.1f} logp+grad evaluations/s, "
              f"{row_bytes(p, args.rows) / 1e9:.2f} GB of row data each: {moved / 1e9:,.0f} GB/s"
              + (f"; device copy bandwidth {bw / 1e9:,.0f} GB/s: {moved / bw:.0%} of it" if bw else
                 "; CuPy missing, copy bandwidth not measured")]
    print(lines[-1], flush=True)
    write_table(lines, args.out)   # written now and again below: a timeout during sampling keeps these
    import os
    lines += sampling_table(args.sampling, args.nuts_rows, "cuda-emulated" if args.host else "cuda", args.host,
                            min(4, os.cpu_count() or 1), args.chees_tune)
    write_table(lines, args.out)


if __name__ == "__main__":
    main()
