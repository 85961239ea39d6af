"""The checkpoint file: records appended one after another, each with its own checksum.

A run's checkpoints used to rewrite the whole run each time (with ``checkpoint_every=50`` a 2 x 2,500
iteration run took 3.2x as long); appending costs the same at the first checkpoint and the last. Two kinds
of record, numpy's .npz (no pickles) with a JSON ``meta``:

- run: the settings of a run (or of its resumed continuation), written when it starts;
- chain: one chain's draws and statistics since its previous record, and its sampler state after them
  (a snapshot the chain took at the end of an iteration while it went on sampling).

Each is framed as ``b"SEG" | payload length (8 bytes, little-endian) | payload | SHA-256 of the payload``
after the file's magic line. A process killed while appending leaves a cut-off last record: reading drops
it with a warning, and a resumed run appends after the last complete one. A damaged record before the last
is an error (``bb.ResultFileError``).
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import time
import warnings

import numpy as np

from .verified_file import ResultFileError, replace_atomically

MAGIC = b"brr_bayes checkpoint 2\n"
_HEAD = b"SEG"
SYNC_SECONDS = 10.0   # fsync at most this often: a killed process loses nothing written, a power cut at most this


def is_checkpoint(path) -> bool:
    """Whether ``path`` is a checkpoint file (rather than a run saved whole by Result.save)."""
    try:
        with open(path, "rb") as f:
            return f.read(len(MAGIC)) == MAGIC
    except OSError:
        return False


def _frame(meta, arrays=None) -> bytes:
    arrays = dict(arrays or {})
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    payload = buf.getvalue()
    return _HEAD + len(payload).to_bytes(8, "little") + payload + hashlib.sha256(payload).digest()


def run_record(config) -> bytes:
    return _frame({"kind": "run", "config": config})


def chain_record(chain, rows, posterior, state, grad_evals, seconds) -> bytes:
    """One chain's rows since its last record (the trace's draws and statistics, and their constrained
    values) and its state after them."""
    arrays = {"unconstrained": rows["draws"]}
    arrays.update({f"stats/{k}": v for k, v in rows.items() if k not in ("draws", "warmup")})
    arrays["stats/diverging"] = np.asarray(rows["diverging"]).astype(bool)
    arrays.update({f"posterior/{k}": v for k, v in posterior.items()})
    return _frame({"kind": "chain", "chain": int(chain), "state": state, "grad_evals": int(grad_evals),
                   "seconds": float(seconds)}, arrays)


def result_records(res):
    """A Result (the run a resumed one continues, saved whole) as records: its run, then each chain."""
    out = [run_record(res.config)]
    for c in range(res.chains):
        n = res.chain_draws[c]
        rows = {"draws": res.unconstrained[c, :n]}
        rows.update({k: v[c, :n] for k, v in res.sample_stats.items()})
        post = {k: v[c, :n] for k, v in res.posterior.items()}
        state = res.sampler_states[c] if c < len(res.sampler_states) else None
        grads = res.grad_evals[c] if res.grad_evals else 0
        out.append(chain_record(c, rows, post, state, grads, res.seconds))
    return out


def start(path, records):
    """Create the file at ``path`` holding ``records`` (atomically, replacing what was there)."""
    def write(tmp):
        with open(tmp, "wb") as f:
            f.write(MAGIC)
            for r in records:
                f.write(r)

    replace_atomically(path, write)


def append(path, records, synced_at=None):
    """Append records. They reach the operating system at once (a killed process loses nothing), and the
    disk when the last fsync is ``SYNC_SECONDS`` old or ``synced_at`` is None. Returns when it last synced
    (pass it back as ``synced_at``)."""
    now = time.monotonic()
    with open(os.fspath(path), "ab") as f:
        for r in records:
            f.write(r)
        f.flush()
        if synced_at is None or now - synced_at >= SYNC_SECONDS:
            os.fsync(f.fileno())
            return now
    return synced_at


def drop_cut_off_tail(path):
    """Cut a record left half-written by a killed process off the end, so that appending goes on after
    the last complete one."""
    path = os.fspath(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, complete = _payloads(path)
    if complete < os.path.getsize(path):
        with open(path, "r+b") as f:
            f.truncate(complete)
            f.flush()
            os.fsync(f.fileno())


def _payloads(path):
    """(payloads in order, the byte offset where the last complete one ends); a cut-off or damaged last
    record is left out with a warning."""
    with open(path, "rb") as f:
        raw = f.read()
    if not raw.startswith(MAGIC):
        raise ResultFileError(f"Result.load: {path} is not a brr_bayes checkpoint file")
    pos = complete = len(MAGIC)
    out = []
    while pos < len(raw):
        which = f"record {len(out) + 1} of {path}"
        head_end = pos + len(_HEAD) + 8
        if not raw.startswith(_HEAD, pos) and not (len(raw) - pos < len(_HEAD) and _HEAD.startswith(raw[pos:])):
            raise ResultFileError(f"Result.load: {which} does not start where one should (corrupted file); use "
                                  "another copy or sample again")
        if head_end > len(raw):
            _cut_off(which, len(out))
            break
        n = int.from_bytes(raw[pos + len(_HEAD):head_end], "little")
        end = head_end + n + 32
        if end > len(raw):
            _cut_off(which, len(out))
            break
        payload = raw[head_end:head_end + n]
        if hashlib.sha256(payload).digest() != raw[head_end + n:end]:
            if end == len(raw):
                _cut_off(which, len(out))
                break
            raise ResultFileError(f"Result.load: {which} is corrupted (its bytes do not match its checksum); use "
                                  "another copy or sample again")
        out.append(payload)
        pos = complete = end
    return out, complete


def _cut_off(which, kept):
    warnings.warn(f"{which} is cut off or damaged (the process was stopped while writing it?) and is left out; the "
                  f"run resumes from the {kept} record(s) before it", RuntimeWarning, stacklevel=4)


def read(path):
    """The whole run in the checkpoint file at ``path``, for Result.load: each chain's rows joined (a dict of
    'unconstrained', 'stats/<name>' and 'posterior/<name>' arrays, None for a chain with no record), its
    last state, gradient count and seconds, the run's config, and ``partial`` while chains are unfinished."""
    config, chains = None, {}
    for payload in _payloads(os.fspath(path))[0]:
        with np.load(io.BytesIO(payload), allow_pickle=False) as z:
            meta = json.loads(bytes(z["meta"]).decode())
            if meta["kind"] == "run":
                config = meta["config"]
                continue
            ch = chains.setdefault(meta["chain"], {"parts": [], "state": None, "grad_evals": 0, "seconds": 0.0})
            ch["parts"].append({k: z[k] for k in z.files if k != "meta"})
            ch["state"] = meta["state"] if meta["state"] is not None else ch["state"]
            ch["grad_evals"] += meta["grad_evals"]
            ch["seconds"] += meta["seconds"]
    if config is None:
        raise ResultFileError(f"Result.load: {path} holds no complete record yet (the run was stopped before its "
                              "first checkpoint); sample afresh")
    n = config["chains"]
    joined = [_join(chains[c]["parts"]) if c in chains and chains[c]["parts"] else None for c in range(n)]
    if all(j is None for j in joined):
        raise ResultFileError(f"Result.load: {path} holds no chain's draws or state yet; sample afresh")
    states = [chains[c]["state"] if c in chains else None for c in range(n)]
    return dict(chains=joined, config=config, sampler_states=states,
                grad_evals=[chains[c]["grad_evals"] if c in chains else 0 for c in range(n)],
                seconds=max((ch["seconds"] for ch in chains.values()), default=0.0),
                partial=not finished(config, states))


def _join(parts):
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def finished(config, states):
    """Whether every chain has run all the iterations its run asked for."""
    totals = config.get("totals") or [config["tune"] + config["draws"]] * config["chains"]
    return bool(states) and all(s is not None and s["iteration"] >= t for s, t in zip(states, totals))
