"""A run of the C++ sampler: started, waited on with a progress bar, stopped by Ctrl-C; and the device
evaluators it runs through."""
from __future__ import annotations

import sys
import time

from tqdm.auto import tqdm

from .. import _backend, ops
from .plan import core_config, is_lockstep


def device_evaluator(program, device, chains, sampler):
    """What a run on ``device`` evaluates through: None on the CPU; for ChEES one device evaluator holding
    every chain's point; for NUTS (whose chains branch apart) a list of single-point evaluators, one per chain,
    over one device copy of the model's data."""
    if device == "cpu":
        return None
    missing = program.device_unsupported_ops()
    if missing:
        raise ValueError(f"device='{device}': the model uses ops without a device kernel yet "
                         f"({', '.join(sorted({ops.name(c) for c in missing}))}); sample it with device='cpu'")
    if device == "cuda":
        if not _backend.cuda_available():
            why = "the CUDA extension was not built (nvcc missing at install)" if not _backend.cuda_built() \
                else "no CUDA device is visible"
            raise RuntimeError(f"device='cuda': {why}; use device='cpu', or install on a machine with a GPU")
        make = _backend.cuda_module().ProgramDevice
    else:
        make = _backend.core().HostGridDevice
    if is_lockstep(sampler):
        return make(program, chains)
    first = make(program, 1)   # the model's data goes to the device once; every chain's evaluator reads it
    return [first] + [make(program, 1, share=first) for _ in range(chains - 1)]


def run(target, config, inits, states, progressbar, desc, on_wait=None):
    """Start the C++ run, poll progress, handle Ctrl-C; returns (run, partial, seconds).

    ``on_wait(run)`` is called at least every 50 ms while the chains sample (checkpoints are written there).
    """
    core = _backend.core()
    device = device_evaluator(target, config.get("device", "cpu"), config["chains"], config["sampler"])
    run = core.start_sampling(target, core_config(config), list(inits), list(states), device)
    starts = [s["iteration"] if s else 0 for s in states] or [0] * config["chains"]
    totals = config.get("totals") or [config["tune"] + config["draws"]] * config["chains"]
    total = sum(max(0, t - s) for s, t in zip(starts, totals))
    bar = None
    if progressbar:
        bar = tqdm(total=total, desc=desc, unit="draw", file=sys.stderr, leave=True, dynamic_ncols=True)
    t0 = time.perf_counter()
    partial = False
    try:
        last = 0
        # wait returns as soon as the chains are done (a short checkpoint segment is not kept waiting) and
        # at least every 50 ms, for Ctrl-C, the timer and the progress bar
        while not run.wait(0.05):
            if on_wait is not None:
                on_wait(run)
            if bar is not None:
                prog = run.progress()
                done = sum(max(0, p["done"] - s) for p, s in zip(prog, starts))
                bar.update(done - last)
                last = done
                dt = max(time.perf_counter() - t0, 1e-9)
                # a chain waiting for a free thread has made no draw yet: say so instead of its initial step
                steps = [f"{p['step_size']:.2g}" if p["done"] > s else "waiting" for p, s in zip(prog, starts)]
                bar.set_postfix(divergences=sum(p["divergences"] for p in prog), step=",".join(steps),
                                per_chain=f"{done / dt / config['chains']:.0f}/s", refresh=False)
        if bar is not None:
            prog = run.progress()
            bar.update(sum(max(0, p["done"] - s) for p, s in zip(prog, starts)) - last)
    except KeyboardInterrupt:
        run.stop()
        partial = True
    except BaseException:   # a failed checkpoint write, say: stop the chains rather than wait for their end
        run.stop()
        raise
    finally:
        run.join()
        if bar is not None:
            bar.close()
    seconds = time.perf_counter() - t0
    errors = [run.error(c) for c in range(config["chains"])]
    if any(errors):
        bad = [(c, e) for c, e in enumerate(errors) if e]
        raise RuntimeError("; ".join(f"chain {c}: {e}" for c, e in bad))
    return run, partial, seconds
