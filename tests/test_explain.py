"""model.explain() and `brr-bayes explain script.py`: the compiled program and the compiler's decisions."""
import textwrap

import numpy as np

import brr_bayes as bb
from brr_bayes.cli import main


def _mrp(n=4000, extra=None):
    rng = np.random.default_rng(0)
    g, h = rng.integers(0, 20, n), rng.integers(0, 4, n)
    with bb.Model() as m:
        s = bb.HalfNormal("s", 1)
        z = bb.Normal("z", 0, 1, shape=20)
        w = bb.Normal("w", 0, 1, shape=4)
        eta = s * z[g] + w[h]
        if extra == "row_param":
            eta = eta * bb.math.exp(bb.Normal("e", 0, 0.1, shape=n))
        if extra == "continuous":
            eta = eta + bb.Normal("b", 0, 1) * rng.normal(size=n)
        bb.Bernoulli("y", logit_p=eta, observed=rng.integers(0, 2, n))
    return m


def test_explain_lists_ops_rewrites_and_merged_rows():
    e = _mrp().explain()
    text = str(e)
    assert e.ops[-1]["op"] == "glm" and e.ops[-1]["size"] == 80   # 20 x 4 cells
    assert "push_through_gather" in text and "4,000 rows merged into 80 cells" in text
    assert repr(e) == text


def test_explain_says_why_rows_were_not_merged_and_what_blocks_fusion():
    text = str(_mrp(extra="continuous").explain())
    assert "rows not merged" in text and "continuous predictor" in text
    text = str(_mrp(extra="row_param").explain())
    assert "parameter 'e'" in text and "not fused" in text and "a[idx]" in text


def test_cli_explain_stops_the_script_before_sampling(tmp_path, capsys):
    script = tmp_path / "model.py"
    script.write_text(textwrap.dedent("""
        import numpy as np, brr_bayes as bb
        g = np.repeat(np.arange(10), 30)
        with bb.Model() as m:
            z = bb.Normal("z", 0, 1, shape=10)
            bb.Poisson("y", log_mu=z[g], observed=g % 3)
        bb.sample(m, draws=10_000)
        raise SystemExit("sampled: explain should have stopped the script")
    """))
    assert main(["explain", str(script)]) == 0
    out = capsys.readouterr().out
    assert "poisson-log" in out and "300 rows merged into 10 cells" in out


def test_cli_explain_without_a_model_is_a_clear_error(tmp_path, capsys):
    script = tmp_path / "empty.py"
    script.write_text("x = 1\n")
    assert main(["explain", str(script)]) == 1
    assert "no model found" in capsys.readouterr().err


def test_survey_rows_that_cannot_merge_run_as_one_narrow_pass():
    """Issue 35's model as a Stan user writes it (a continuous score in X @ b, a state covariate repeated
    over rows, sigma * z[idx] blocks): one GLM op reads every row, 16 bytes a row, and nothing else runs
    over the rows."""
    rng = np.random.default_rng(0)
    n = 6000
    ids = {"state": rng.integers(0, 50, n), "age": rng.integers(0, 6, n), "race": rng.integers(0, 4, n),
           "edu": rng.integers(0, 5, n)}
    ids["state_race"] = ids["state"] * 4 + ids["race"]
    X = np.column_stack([rng.integers(0, 2, n), rng.normal(size=n)])
    zs = rng.normal(size=50)[ids["state"]]
    with bb.Model() as m:
        eta = bb.Normal("alpha", 0, 2.5) + X @ bb.Normal("b", 0, 1, shape=2) + bb.Normal("gamma", 0, 1) * zs
        for name, L in (("state", 50), ("age", 6), ("race", 4), ("edu", 5), ("state_race", 200)):
            eta = eta + bb.HalfNormal(f"sigma_{name}", 1) * bb.Normal(f"z_{name}", 0, 1, shape=L)[ids[name]]
        bb.Bernoulli("y", logit_p=eta, observed=rng.integers(0, 2, n))
    rows = m.explain().ops
    (glm,) = [r for r in rows if r["op"] == "glm"]
    assert "9 linear-predictor terms" in glm["detail"]
    assert "16 bytes a row (5 narrow indices, 3 coded columns)" in glm["detail"]
    assert [r["op"] for r in rows if r["size"] >= n and r["logp"]] == ["glm"]
