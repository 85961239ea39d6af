"""Draw the user guide's figures: python docs/make_figures.py [--out DIR]

They go to a temporary folder unless --out says where; --out docs/images replaces the ones in the guide.
"""
import argparse
import pathlib
import sys
import tempfile
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import brr_bayes as bb  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "benchmarks"))   # the workloads W1-W5
from workloads import eight_schools, make_w1  # noqa: E402


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
    sbc_figure(OUT)
    print(f"figures written to {OUT}")
    plt.close("all")


def sbc_figure(out):
    """bb.sbc's ECDF plot for a model that matches its data's process and one whose likelihood's scale is
    half the data's (tests/test_sbc_api.py's pair)."""
    import numpy as np

    def build(observed=None):
        with bb.Model() as m:
            mu = bb.Normal("mu", 0, 1)
            tau = bb.HalfNormal("tau", 1)
            z = bb.Normal("z", 0, 1, shape=4)
            bb.Normal("y", mu + tau * z, 1.0, observed=np.zeros(4) if observed is None else observed["y"])
        return m

    def process(scale):
        def simulate(rng):
            mu, tau, z = rng.normal(), abs(rng.normal()), rng.normal(size=4)
            return dict(mu=mu, tau=tau, z=z), dict(y=rng.normal(mu + tau * z, scale))
        return simulate
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.5), sharey=True)
    for ax, scale, title in ((axes[0], 1.0, "the model matches the data's process"),
                             (axes[1], 2.0, "the data are twice as noisy as the model says")):
        res = bb.sbc(build, n_sims=200, simulate=process(scale), seed=1, draws=200, tune=200)
        res.plot(var_names=["mu", "tau"], ax=ax)
        ax.set_title(f"{title}: {'passed' if res.passed else 'failed'}", fontsize=9)
    fig.savefig(out / "sbc.png", dpi=80, bbox_inches="tight")


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
