"""The MRP walkthrough of docs/mrp.md, end to end: simulate, fit with a formula, poststratify, plot.

Run: python docs/mrp_walkthrough.py [--out PATH]   (the figure goes to a temporary folder unless --out
says where; --out docs/images/mrp_states.png redraws the one in docs/mrp.md)
"""
import argparse
import os
import tempfile
import time

import matplotlib
import numpy as np
import pandas as pd

import brr_bayes as bb
from brr_bayes.examples import simulate_survey, survey_census

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--out", default=os.path.join(tempfile.gettempdir(), "mrp_states.png"))
out = parser.parse_args().out

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

# 1. A survey of 10,000 respondents from the example survey (brr_bayes.examples), as a modeller would load it.
d = simulate_survey(10_000)
survey = pd.DataFrame({k: d[k] for k in ["y", "state", "age", "race", "edu", "female", "region"]})
for k in range(3):                       # state-level covariates, joined onto each respondent
    survey[f"z{k + 1}"] = d["Z"][d["state"], k]

# 2. The multilevel model, written as a formula.
formula = ("y ~ 1 + z1 + z2 + z3 + female + (1 | state) + (1 | age) + (1 | race) + (1 | edu) + (1 | region)"
           " + (1 | state:race) + (1 | age:edu)")
t0 = time.time()
fit = bb.glm(formula, survey, family="bernoulli", seed=1, progressbar=False)
print(f"sampled in {time.time() - t0:.0f} s")
print(fit.summary())

# 3. The census: one row per state x age x race x edu x female cell with its population count.
census = pd.DataFrame(survey_census())
t0 = time.time()
est = bb.poststratify(fit, census, weights="n", by="state")
print(f"poststratified {len(census):,} cells in {time.time() - t0:.1f} s")
table = est.summary(prob=0.9)
truth = (census["p"] * census["n"]).groupby(census["state"]).sum() / census.groupby("state")["n"].sum()
raw = survey.groupby("state")["y"].mean()
table["truth"], table["raw"] = truth.to_numpy(), raw.to_numpy()
inside = ((table["q5"] <= table["truth"]) & (table["truth"] <= table["q95"])).mean()
rmse = lambda x: float(np.sqrt(np.mean((x - table["truth"]) ** 2)))  # noqa: E731
print(table.head(10).to_string(index=False))
print(f"truth inside the 90% interval: {inside:.0%} of states; RMSE MRP {rmse(table['mean']):.4f}, "
      f"raw survey means {rmse(table['raw']):.4f}")

# 4. State estimates against the truth.
fig, ax = plt.subplots(figsize=(5.5, 5))
ax.plot(table["truth"], table["raw"], "o", color="0.7", ms=4, label="raw survey mean")
ax.errorbar(table["truth"], table["mean"], yerr=[table["mean"] - table["q5"], table["q95"] - table["mean"]],
            fmt="o", ms=4, color="C0", elinewidth=1, label="MRP estimate (90% interval)")
lims = [min(table["truth"].min(), table["raw"].min()) - 0.02, max(table["truth"].max(), table["raw"].max()) + 0.02]
ax.plot(lims, lims, "k--", lw=1)
ax.set(xlim=lims, ylim=lims, xlabel="true state share", ylabel="estimate",
       title=f"50 states from 10,000 respondents\nRMSE: MRP {rmse(table['mean']):.3f}, raw {rmse(table['raw']):.3f}")
ax.legend(loc="upper left", fontsize=8)
fig.tight_layout()
fig.savefig(out, dpi=110)
print(f"figure written to {out}")
