"""The forecaster's daily loop: data up to day t -> a fit warm-started from day t-1's -> saved -> its
summary, with a ledger of which fit warmed which, so that every fit can be made again from its seed and
its warm-start file."""
from __future__ import annotations

import datetime
import hashlib
import json
import os
import pathlib
import time
import warnings

import numpy as np

from .result import Result
from .sampling import sample
from .seeds import resolve_seed
from .verified_file import replace_atomically

LEDGER = "ledger.json"


class DailyRefit:
    """Refit a model every day, each fit warm-started from the latest earlier day's.

    Every fit is saved as ``<folder>/<day>.nc``; ``<folder>/ledger.json`` records per day the file, the
    fit it was warm-started from (None for the first), its seed, the file's SHA-256, its time and its
    convergence figures. ``fit(day, data)`` fits ``build(data)`` with ``bb.sample``'s settings given here;
    ``reproduce(day)`` fits that day again from the ledger and checks the draws are the saved ones, bit
    for bit.

    Args:
        build: ``build(data) -> bb.Model``.
        folder: where the fits and the ledger live (made if missing).
        seed: the base seed; day ``d``'s fit uses a seed derived from it and ``d`` alone, so a day
            refitted later draws what it drew the first time.
        sample_kwargs: passed to every ``bb.sample`` (``draws``, ``chains``, ``checkpoint_every``, ``client``,
            ...). ``tune`` applies to the first, cold fit; warm fits use the warm start's short warm-up unless
            ``warm_tune`` is given.

    Example:
        >>> import numpy as np, tempfile, brr_bayes as bb
        >>> def build(y):
        ...     with bb.Model() as m:
        ...         mu = bb.Normal("mu", 0, 1)
        ...         _ = bb.Normal("y", mu, 1, observed=y)
        ...     return m
        >>> runner = bb.DailyRefit(build, tempfile.mkdtemp(), seed=1, draws=200, tune=200, chains=2,
        ...                        progressbar=False)
        >>> _ = runner.fit("2024-10-07", np.array([0.1, 0.3]))
        >>> fit = runner.fit("2024-10-08", np.array([0.1, 0.3, 0.2]))
        >>> runner.ledger()["2024-10-08"]["warm_start"]
        '2024-10-07.nc'
    """

    def __init__(self, build, folder, *, seed=None, warm_tune=None, **sample_kwargs):
        if not callable(build):
            raise TypeError("DailyRefit: build must be callable: build(data) -> bb.Model")
        for key in ("warm_start", "resume", "seed", "init", "checkpoint"):
            if key in sample_kwargs:
                raise ValueError(f"DailyRefit chooses {key}= for each day itself; leave it out")
        self.build, self.folder = build, pathlib.Path(folder)
        self.seed = resolve_seed(seed)
        self.warm_tune, self.sample_kwargs = warm_tune, dict(sample_kwargs)
        self.folder.mkdir(parents=True, exist_ok=True)

    # the ledger ---------------------------------------------------------------------------------
    def ledger(self) -> dict:
        """{day: {file, warm_start, seed, sha256, seconds, min_ess_bulk, max_rhat, saved_at}} by day."""
        path = self.folder / LEDGER
        return json.loads(path.read_text()) if path.exists() else {}

    def _record(self, day, entry):
        ledger = self.ledger()
        ledger[day] = entry
        text = json.dumps(dict(sorted(ledger.items())), indent=1) + "\n"
        replace_atomically(self.folder / LEDGER, lambda tmp: pathlib.Path(tmp).write_text(text))

    def day_seed(self, day) -> int:
        """Day ``day``'s seed: from the base seed and the day alone."""
        digest = hashlib.sha256(f"{self.seed}:{_day(day)}".encode()).digest()
        return int.from_bytes(digest[:8], "little") >> 1

    def _previous(self, day, ledger=None):
        earlier = [d for d in (self.ledger() if ledger is None else ledger) if d < day]
        return max(earlier) if earlier else None

    # fitting ------------------------------------------------------------------------------------
    def _kwargs(self, warm_file):
        """bb.sample's settings for a fit warm-started from warm_file in the folder (None: a cold fit)."""
        kw = dict(self.sample_kwargs)
        if warm_file is not None:
            kw["warm_start"] = str(self.folder / warm_file)
            if self.warm_tune is not None:
                kw["tune"] = self.warm_tune
            else:
                kw.pop("tune", None)   # the warm start's short warm-up
        return kw

    def fit(self, day, data) -> Result:
        """Fit ``build(data)`` for ``day`` (a date or a string that sorts by date), warm-started from the
        latest earlier day's fit in the ledger, save it and record it. A day already fitted is fitted again
        and replaced (its warm start is still the latest earlier day)."""
        day = _day(day)
        ledger = self.ledger()
        prev = self._previous(day, ledger)
        warm_file = None if prev is None else ledger[prev]["file"]
        model = self.build(data)
        started = time.perf_counter()
        res = sample(model, seed=self.day_seed(day), **self._kwargs(warm_file))
        seconds = time.perf_counter() - started
        file = f"{day}.nc"
        res.save(self.folder / file)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            diag = res.summary(kind="diagnostics")
        self._record(day, dict(file=file, warm_start=warm_file,
                               seed=self.day_seed(day), sha256=_sha256(self.folder / file), seconds=seconds,
                               min_ess_bulk=float(diag["ess_bulk"].min()), max_rhat=float(diag["r_hat"].max()),
                               saved_at=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")))
        return res

    def load(self, day) -> Result:
        """The saved fit of ``day`` (its file's checksum verified, and the ledger's SHA-256 compared)."""
        day = _day(day)
        entry = self.ledger().get(day)
        if entry is None:
            raise KeyError(f"DailyRefit: no fit of {day} in {self.folder / LEDGER}; fitted days: {sorted(self.ledger())}")
        path = self.folder / entry["file"]
        if _sha256(path) != entry["sha256"]:
            raise ValueError(f"DailyRefit: {path} is not the file the ledger recorded (its SHA-256 differs): it was "
                             "replaced or damaged; refit the day")
        return Result.load(path)

    def reproduce(self, day, data) -> Result:
        """Fit ``day`` again from its ledger entry (its seed, and the very file it was warm-started from) and
        check that the draws equal the saved ones bit for bit; returns the new fit. Raises AssertionError if
        they differ (another version, build or data)."""
        day = _day(day)
        entry = self.ledger().get(day)
        if entry is None:
            raise KeyError(f"DailyRefit: no fit of {day} to reproduce; fitted days: {sorted(self.ledger())}")
        res = sample(self.build(data), seed=entry["seed"], **self._kwargs(entry["warm_start"]))
        saved = self.load(day)
        if not np.array_equal(res.unconstrained, saved.unconstrained, equal_nan=True):
            raise AssertionError(f"DailyRefit: the refit of {day} draws differently from {entry['file']}: another "
                                 "brr_bayes version or build, other data, or other settings")
        return res


def _day(day):
    if isinstance(day, (datetime.date, datetime.datetime)):
        return day.isoformat()[:10]
    if not isinstance(day, str) or not day or os.sep in day or day.startswith("."):
        raise ValueError(f"DailyRefit: a day is a date or a string that sorts by date ('2024-10-07'), got {day!r}")
    return day


def _sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
