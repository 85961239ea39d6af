"""Whether a run's draws fit in memory, checked before it starts: a many-chain run of a large model asks
for chains x draws x (parameters + outputs) doubles, and finding out when the Result is built, after
hours of sampling, loses them all."""
import math
import re
import warnings

from .diagnostics import SamplingWarning


def available_bytes():
    """Memory the system can give without swapping (MemAvailable), or None where it cannot say."""
    try:
        with open("/proc/meminfo") as fh:
            m = re.search(r"^MemAvailable:\s+(\d+) kB", fh.read(), re.M)
        return int(m.group(1)) * 1024 if m else None
    except OSError:
        return None


def row_bytes(model, chains):
    """Bytes one draw of every chain takes in a Result: the unconstrained draw and every constrained
    output (parameters and deterministics), float64; building the Result needs about that much at its peak."""
    values = sum(math.prod(shape) for _, shape, _ in model.compiled.outputs)
    return 8 * chains * (model.dim + values)


def check_fits(model, config, available=None):
    """Raise ValueError before sampling when the Result would not fit in the memory available now; warn
    when it would take more than half of it."""
    tune_rows = int(config["tune"]) if config.get("keep_warmup") else 0
    rows = int(config["draws"]) + tune_rows
    chains = int(config["chains"])
    per_row = row_bytes(model, chains)
    need = per_row * rows
    have = available_bytes() if available is None else available
    if have is None or need <= have / 2:
        return
    gb = 1024 ** 3
    what = (f"{chains} chains x {rows:,} draws x ({model.dim:,} parameters + their constrained values and "
            f"deterministics) take {need / gb:.1f} GB")
    fits = max(1, int(have / 2 // per_row) - tune_rows)
    fix = (f"pass draws={fits:,} or fewer (many short chains need few draws each: judge them by "
           "result.nested_rhat()), fewer chains" + (", or keep_warmup=False" if tune_rows else ""))
    if need > have:
        raise ValueError(f"{what}, more than the {have / gb:.1f} GB of memory available: {fix}")
    warnings.warn(f"{what}, more than half the {have / gb:.1f} GB of memory available; {fix} to leave room",
                  SamplingWarning, stacklevel=3)
