"""Vote choice among three candidates: multinomial-logit MRP with bb.glm(family="categorical") and
poststratified candidate shares by state, checked against the simulation's truth. Run: python docs/vote_choice_walkthrough.py"""
import numpy as np, pandas as pd, brr_bayes as bb
from scipy import special

rng = np.random.default_rng(7)
n = 6000                                           # respondents
state = rng.integers(0, 12, n)
age = rng.integers(0, 4, n)
female = rng.integers(0, 2, n)
a_state = rng.normal(0, 0.5, (12, 3)); a_state[:, 0] = 0       # candidate 0 is the reference
logits = np.stack([np.zeros(n),
                   0.2 + 0.4 * female + a_state[state, 1] + 0.2 * (age - 1.5),
                   -0.3 - 0.3 * female + a_state[state, 2] - 0.3 * (age - 1.5)], -1)
choice = (special.softmax(logits, -1).cumsum(-1) < rng.random(n)[:, None]).sum(-1)
survey = pd.DataFrame({"choice": choice, "state": state.astype(str), "age": age.astype(str), "female": female})

fit = bb.glm("choice ~ 1 + female + (1 | state) + (1 | age)", survey, family="categorical",
             draws=500, tune=500, chains=4, seed=1, progressbar=False)

# the census: every state x age x sex cell with its population
cells = pd.MultiIndex.from_product([range(12), range(4), range(2)], names=["state", "age", "female"]).to_frame(index=False)
cells["n"] = rng.integers(1_000, 50_000, len(cells))
cells[["state", "age"]] = cells[["state", "age"]].astype(str)
shares = bb.poststratify(fit, cells, weights="n", by="state")
print(shares.draws.dims, shares.draws.shape)
print(shares.summary(prob=0.9).head(6).round(3).to_string(index=False))
# against the truth: each state's population share from the simulation's own logits
s, a_, f_ = (cells[c].astype(int).to_numpy() for c in ("state", "age", "female"))
true_logits = np.stack([np.zeros(len(cells)), 0.2 + 0.4 * f_ + a_state[s, 1] + 0.2 * (a_ - 1.5),
                        -0.3 - 0.3 * f_ + a_state[s, 2] - 0.3 * (a_ - 1.5)], -1)
p = special.softmax(true_logits, -1) * cells["n"].to_numpy()[:, None]
truth = pd.DataFrame(p).groupby(cells["state"]).sum()
truth = truth.div(truth.sum(1), axis=0)
tab = shares.summary(prob=0.9)
tab["truth"] = [truth.loc[st, k] for st, k in zip(tab["state"], tab["category"])]
inside = ((tab["q5"] <= tab["truth"]) & (tab["truth"] <= tab["q95"])).mean()
print(f"truth inside the 90% interval: {inside:.0%} of state x candidate shares; "
      f"max |mean - truth| {np.abs(tab['mean'] - tab['truth']).max():.3f}")
