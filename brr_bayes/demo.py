"""The bundled example: multilevel logistic regression (MRP-style) on simulated survey data."""
from __future__ import annotations

import time
import warnings

import numpy as np

import brr_bayes as bb
from brr_bayes.examples import mrp_logit, simulate_survey


def run_demo(n=6000, draws=1000, tune=1000, chains=4, seed=2024, progressbar=True, out=print, target_accept=0.95):
    """Simulate a survey, fit vote ~ covariates + state/age/race/edu effects, print a summary."""

    d = simulate_survey(n)
    out(f"brr_bayes {bb.__version__} demo: multilevel logistic regression of {n:,} simulated survey responses")
    out(f"  ({int(d['n_cells']):,} distinct respondent cells, collapsed exactly to binomial counts; 50 states, "
        "7 random-effect blocks, 311 parameters)")
    t0 = time.perf_counter()
    model = mrp_logit(d, collapsed=True)
    compile_s = time.perf_counter() - t0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # small random-effect blocks (4-6 levels) make funnels: a smaller step avoids divergences there
        res = bb.sample(model, draws=draws, tune=tune, chains=chains, seed=seed, progressbar=progressbar,
                        target_accept=target_accept)
    names = ["alpha", "beta", "b_female"] + [f"sigma_{b}" for b in
                                             ("state", "age", "race", "edu", "region", "state_race", "age_edu")]
    summ = res.summary(var_names=names)
    truth = {"alpha": d["true_alpha"], "b_female": d["true_b_female"]}
    truth.update({f"beta[{i}]": v for i, v in enumerate(d["true_beta"])})
    truth.update({k.replace("true_", ""): d[k] for k in d if k.startswith("true_sigma_")})
    summ.insert(0, "true", [float(truth.get(i, np.nan)) for i in summ.index])
    import pandas as pd
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        out(summ.round(3).to_string())
    st = res.sample_stats
    n_div = int(st["diverging"].sum())
    inside = ((summ["true"] >= summ["hdi_3%"]) & (summ["true"] <= summ["hdi_97%"])).sum()
    out("")
    out(f"Sampling took {res.seconds:.1f} s ({compile_s:.2f} s to build the model), {chains} chains x {draws} draws, "
        f"{n_div} divergences, mean tree depth {st['tree_depth'].mean():.1f}.")
    out(f"Convergence of the parameters above: max R-hat {summ['r_hat'].max():.3f} (want <= 1.01), min bulk ESS "
        f"{summ['ess_bulk'].min():.0f} (want >= 400); the notes below, if any, cover every parameter.")
    for w in caught:
        if issubclass(w.category, bb.diagnostics.SamplingWarning):
            out(f"Note: {w.message}")
    out(f"Recovery: {inside} of {len(summ)} true values lie inside their 94% HDI. The group-level sds (sigma_*) say how "
        "much opinion varies between states, age groups, races and education levels once the others are accounted "
        "for; small blocks (4-6 levels) are only weakly identified, so their intervals are wide.")
    return res, summ
