"""Draw the user guide's figures: python docs/make_figures.py [--out DIR]

They go to a temporary folder unless --out says where; --out docs/images replaces the ones in the guide.
"""
import argparse
import pathlib
import tempfile
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import brr_bayes as bb  # noqa: E402
from brr_bayes.workloads import eight_schools, make_w1  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default=str(pathlib.Path(tempfile.gettempdir()) / "brr_bayes_figures"))
    OUT = pathlib.Path(parser.parse_args().out)
    OUT.mkdir(parents=True, exist_ok=True)
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
    print(f"figures written to {OUT}")
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
