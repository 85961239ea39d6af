"""The forecast walkthrough of docs/forecast.md, end to end on simulated data with known truth: poll
aggregation (a national random walk, state offsets, house effects), refitted daily over the last days with
warm starts (bb.DailyRefit), election-day outcomes simulated per draw (a national drift to election day,
correlated regional and state errors, state winners weighted by electoral votes), plots, and the coverage
of the model's intervals over repeated simulated elections.

Run: python docs/forecast_walkthrough.py [--days 14] [--coverage-sims 20] [--out DIR]
(figures and a summary JSON go to a temporary folder unless --out says where; --out docs/images redraws
the ones in docs/forecast.md)
"""
import argparse
import json
import os
import pathlib
import tempfile
import time
import warnings

import matplotlib
import numpy as np

import brr_bayes as bb

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

T, S, H, REGIONS = 60, 12, 5, 3          # days of polling, states, pollsters, regions
ELECTION = T + 30                         # election day, 30 days after the last poll
EV = np.array([55, 38, 29, 20, 16, 15, 11, 10, 9, 6, 4, 3])   # electoral votes per state (216 in all)
REGION = np.arange(S) % REGIONS
DRIFT, REGION_SD, STATE_SD = 0.012, 0.03, 0.02   # election-day uncertainty the polls cannot see


def simulate_polls(seed):
    """One simulated campaign: the truth and ~25 polls a day (national level on the logit scale)."""
    rng = np.random.default_rng(seed)
    national = -0.02 + np.cumsum(0.012 * rng.standard_normal(T))
    offset = 0.25 * rng.standard_normal(S)
    house = 0.04 * rng.standard_normal(H)
    house -= house.mean()                 # house effects measured against the average pollster
    P = 25 * T
    t = np.sort(rng.integers(0, T, P))
    s = rng.choice(S, P, p=EV / EV.sum())
    h = rng.integers(0, H, P)
    n = rng.integers(400, 1500, P)
    y = rng.binomial(n, 1 / (1 + np.exp(-(national[t] + offset[s] + house[h]))))
    return dict(national=national, offset=offset, house=house), dict(t=t, s=s, h=h, n=n, y=y)


def polls_until(polls, day):
    keep = polls["t"] < day
    return {k: v[keep] for k, v in polls.items()} | {"days": day}


def build(p):
    """The poll aggregation model over the days so far."""
    with bb.Model(coords={"day": np.arange(p["days"]), "state": np.arange(S), "pollster": np.arange(H)}) as m:
        sigma_nat = bb.HalfNormal("sigma_nat", 0.05)
        sigma_off = bb.HalfNormal("sigma_off", 0.5)
        sigma_house = bb.HalfNormal("sigma_house", 0.1)
        level = bb.Normal("level", 0, 0.5)
        z_nat = bb.Normal("z_nat", 0, 1, dims="day")
        z_off = bb.Normal("z_off", 0, 1, dims="state")
        z_house = bb.ZeroSumNormal("z_house", 1, dims="pollster")   # against the average pollster
        national = bb.Deterministic("national", level + bb.math.cumsum(sigma_nat * z_nat), dims="day")
        offset = bb.Deterministic("offset", sigma_off * z_off, dims="state")
        eta = national[p["t"]] + offset[p["s"]] + (sigma_house * z_house)[p["h"]]
        bb.Binomial("y", p["n"], logit_p=eta, observed=p["y"])
    return m


def election_day(fit, seed):
    """Per posterior draw: each state's vote share on election day and the electoral votes won."""
    rng = np.random.default_rng(seed)
    nat = np.asarray(fit.posterior["national"])[..., -1].ravel()
    off = np.asarray(fit.posterior["offset"]).reshape(-1, S)
    days_left = ELECTION - np.asarray(fit.posterior["national"]).shape[-1]   # from the last day polled
    drift = DRIFT * np.sqrt(days_left) * rng.standard_normal(nat.size)
    region = REGION_SD * rng.standard_normal((nat.size, REGIONS))[:, REGION]
    state = STATE_SD * rng.standard_normal((nat.size, S))
    share = 1 / (1 + np.exp(-(nat[:, None] + drift[:, None] + off + region + state)))
    votes = (share > 0.5) @ EV
    return share, votes


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--days", type=int, default=14, help="daily refits over the last DAYS days of polling")
    ap.add_argument("--coverage-sims", type=int, default=20, help="simulated elections for the coverage check")
    ap.add_argument("--draws", type=int, default=500)
    ap.add_argument("--out", default=os.path.join(tempfile.gettempdir(), "brr_bayes_forecast"))
    args = ap.parse_args()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    truth, polls = simulate_polls(2024)
    half = EV.sum() // 2 + 1

    # 1. Daily refits over the last days: each warm-started from the day before's saved fit.
    folder = pathlib.Path(tempfile.mkdtemp(prefix="forecast_fits_"))
    runner = bb.DailyRefit(build, folder, seed=2024, draws=args.draws, tune=1000, chains=4, progressbar=False)
    history = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for day in range(T - args.days + 1, T + 1):
            fit = runner.fit(f"day{day:03d}", polls_until(polls, day))
            share, votes = election_day(fit, seed=day)
            history.append(dict(day=day, win=float(np.mean(votes >= half)), ev_median=float(np.median(votes)),
                                seconds=runner.ledger()[f"day{day:03d}"]["seconds"]))
    ledger = runner.ledger()

    # 2. Figures: the national trend with intervals, the states on election day, the win probability.
    nat = np.asarray(fit.posterior["national"]).reshape(-1, T)
    q = np.percentile(1 / (1 + np.exp(-nat)), [5, 25, 50, 75, 95], axis=0)
    fig, ax = plt.subplots(figsize=(7, 3.2))
    ax.fill_between(np.arange(T), q[0], q[4], color="C0", alpha=0.2, label="90% interval")
    ax.fill_between(np.arange(T), q[1], q[3], color="C0", alpha=0.4, label="50% interval")
    ax.plot(q[2], color="C0", label="median")
    # the polls identify the national level of the average state: the truth's national level plus the
    # mean of its state offsets (the model's offsets have mean zero a priori)
    ax.plot(1 / (1 + np.exp(-(truth["national"] + truth["offset"].mean()))), "k--", lw=1,
            label="truth (average state)")
    ax.set_xlabel("day")
    ax.set_ylabel("national vote share")
    ax.legend(fontsize=8)
    fig.savefig(out / "forecast_trend.png", dpi=80, bbox_inches="tight")
    order = np.argsort(np.median(share, axis=0))
    qs = np.percentile(share, [5, 50, 95], axis=0)[:, order]
    fig, ax = plt.subplots(figsize=(7, 3.2))
    ax.errorbar(np.arange(S), qs[1], yerr=[qs[1] - qs[0], qs[2] - qs[1]], fmt="o", ms=4)
    ax.axhline(0.5, color="0.5", lw=0.5)
    ax.set_xticks(np.arange(S), [f"S{s} ({EV[s]})" for s in order], fontsize=7, rotation=45)
    ax.set_ylabel("election-day share (90%)")
    fig.savefig(out / "forecast_states.png", dpi=80, bbox_inches="tight")
    fig, ax = plt.subplots(figsize=(7, 2.6))
    ax.plot([h["day"] for h in history], [h["win"] for h in history], "o-")
    ax.set_ylim(0, 1)
    ax.set_xlabel("day of the refit")
    ax.set_ylabel("P(win the electoral college)")
    fig.savefig(out / "forecast_win.png", dpi=80, bbox_inches="tight")
    plt.close("all")

    # 3. Coverage: the model's 50% and 90% intervals for each state's vote share (logit) on the last day
    # polled, national level plus offset (what the polls identify; the level alone trades off against the
    # offsets' mean), against the truth, over simulated campaigns fitted afresh.
    hits = {0.5: [], 0.9: []}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for k in range(args.coverage_sims):
            tr, po = simulate_polls(10_000 + k)
            f = bb.sample(build(polls_until(po, T)), draws=args.draws, chains=4, seed=k, progressbar=False)
            draws = (np.asarray(f.posterior["national"])[..., -1].reshape(-1, 1)
                     + np.asarray(f.posterior["offset"]).reshape(-1, S))
            true = tr["national"][-1] + tr["offset"]
            for level in hits:
                lo, hi = np.percentile(draws, [50 * (1 - level), 50 * (1 + level)], axis=0)
                hits[level].extend(((lo <= true) & (true <= hi)).tolist())
    coverage = {f"{int(level * 100)}%": float(np.mean(h)) for level, h in hits.items()}
    summary = dict(win_probability=history, coverage=coverage, coverage_intervals=len(hits[0.5]),
                   warm_starts=[ledger[d]["warm_start"] for d in sorted(ledger)],
                   refit_seconds={"first (cold)": history[0]["seconds"],
                                  "later (warm), median": float(np.median([h["seconds"] for h in history[1:]]))
                                  if len(history) > 1 else None},
                   seconds=time.perf_counter() - started)
    (out / "forecast_summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(json.dumps({k: v for k, v in summary.items() if k != "win_probability"}, indent=1))
    print(f"win probability by day: {[round(h['win'], 3) for h in history]}")
    print(f"figures and forecast_summary.json in {out}")


if __name__ == "__main__":
    main()
