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
