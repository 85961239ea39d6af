"""Regenerate the figures in docs/images: python docs/make_figures.py"""
import pathlib
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import brr_bayes as bb  # noqa: E402
from brr_bayes.workloads import eight_schools, make_w1  # noqa: E402

OUT = pathlib.Path(__file__).resolve().parent / "images"


def main():
    OUT.mkdir(exist_ok=True)
    model = eight_schools(make_w1())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = bb.sample(model, seed=1, progressbar=False)
        centered_res = bb.sample(_centered(), seed=1, progressbar=False)
    res.plot_trace(var_names=["mu", "tau"])
    plt.gcf().savefig(OUT / "trace.png", dpi=80, bbox_inches="tight")
    res.plot_forest(var_names=["theta"])
    plt.gcf().savefig(OUT / "forest.png", dpi=80, bbox_inches="tight")
    centered_res.plot_pair(var_names=["mu", "tau"])
    plt.gcf().savefig(OUT / "pair_divergences.png", dpi=80, bbox_inches="tight")
    plt.close("all")


def _centered():
    d = make_w1()
    with bb.Model() as m:
        mu = bb.Normal("mu", 0, 5)
        tau = bb.HalfCauchy("tau", 5)
        theta = bb.Normal("theta", mu, tau, shape=8)
        bb.Normal("y", theta, d["sigma"], observed=d["y"])
    return m


if __name__ == "__main__":
    main()
