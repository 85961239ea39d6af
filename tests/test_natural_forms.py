"""However the workloads are written (benchmarks/workloads/forms.py: Stan, PyMC and NumPyro habits, indicator
matrices, the formula interface), they are the same function of the same parameters and compile to
programs doing the same work. Work is counted, not timed: the values the program computes per evaluation
(benchmarks/natural_forms.py measures the speed)."""
import numpy as np
import pytest

from brr_bayes import ops
from workloads import forms, make_w3, make_w4, make_w5
from workloads.data import make_w2

# 20,000 rows: every state x race level occurs, so the formula interface (observed levels only) has W2's 311
DATA = {"W2": lambda: make_w2(20_000), "W3": make_w3, "W4": make_w4, "W5": make_w5}
MAX_WORK_RATIO = 1.5


def _work(model):
    """Values the compiled program produces per evaluation (GLM ops: their rows); ops computing only a
    deterministic do not run per evaluation."""
    return sum(r["size"] for r in model.explain().ops if r["logp"])


@pytest.fixture(scope="module", params=sorted(DATA))
def corpus(request):
    w = request.param
    d = DATA[w]()
    built = {name: (fn(d), None) for name, fn in forms.FORMS[w].items()}
    built.update({name: (fn(d), perm) for name, (fn, perm) in forms.EXTRA_FORMS.get(w, {}).items()})
    return w, built


def test_every_form_is_the_same_density(corpus):
    w, built = corpus
    ref = built["workloads"][0]
    rng = np.random.default_rng(11)
    points = [rng.normal(scale=0.4, size=ref.dim) for _ in range(3)]
    for name, (m, layout_map) in built.items():
        perm = layout_map(ref, m) if layout_map else np.arange(ref.dim)
        assert m.dim == ref.dim, name
        if layout_map is None:
            assert m.param_names == ref.param_names, name
        for x in points:
            y = np.zeros(m.dim)
            y[perm] = x
            l0, g0 = ref.logp_and_grad(x)
            l1, g1 = m.logp_and_grad(y)
            assert abs(l1 - l0) <= 1e-10 * abs(l0), (w, name, l0, l1)
            np.testing.assert_allclose(g1[perm], g0, rtol=1e-10, atol=1e-10 * np.abs(g0).max(), err_msg=f"{w} {name}")


def test_every_form_does_the_fast_forms_work(corpus):
    w, built = corpus
    work = {name: _work(m) for name, (m, _) in built.items()}
    least = min(work.values())
    slow = {name: round(v / least, 2) for name, v in work.items() if v > MAX_WORK_RATIO * least}
    assert not slow, f"{w}: forms doing more than {MAX_WORK_RATIO}x the leanest form's work: {slow} ({work})"
    for name, (m, _) in built.items():
        assert ops.GLM in m.compiled.compiler.emitted, f"{w} {name}: likelihood not fused"


def test_w2_natural_form_merges_rows_like_the_workloads_form():
    d = make_w2(5000)
    natural, ref = forms.w2_stan_rows(d), forms.FORMS["W2"]["workloads"](d)
    text = str(natural.explain())
    assert "5,000 rows merged into" in text and "factor_rows" in text and "push_through_gather" in text
    cells = lambda m: max(r["size"] for r in m.explain().ops)  # noqa: E731
    assert cells(natural) == cells(ref) < 5000


def test_formula_form_refuses_a_comparison_when_levels_are_missing():
    # at 5,000 rows some state x race levels have no respondent: the formula model has fewer effects,
    # and mapping it onto W2's 311 coordinates would compare the wrong parameters
    d = make_w2(5000)
    fn, layout_map = forms.EXTRA_FORMS["W2"]["formula"]
    with pytest.raises(ValueError, match=r"of W2's 200 state_race levels"):
        layout_map(forms.FORMS["W2"]["workloads"](d), fn(d))


def test_a_deterministic_is_not_computed_per_gradient():
    # PyMC's habit of keeping the convolved effect as a Deterministic: its ops stay in the program for the
    # draws (constrain) but the log density and its gradient skip them, on every executor
    from helpers import assert_batch_matches
    d = make_w3()
    ref, m = forms.FORMS["W3"]["workloads"](d), forms.w3_pymc(d)
    per_gradient = m.compiled.program.logp_ops()
    rows = m.explain().ops
    skipped = [k for k in range(len(rows)) if k not in per_gradient]
    assert [rows[k]["op"] for k in skipped] == ["mul", "mul", "add"] and all(rows[k]["size"] == 900 for k in skipped)
    assert len(per_gradient) == len(ref.compiled.program.logp_ops())
    x = np.random.default_rng(3).normal(scale=0.4, size=m.dim)
    # the two forms add the convolved effect's terms in the opposite order (theta's first here), so they
    # agree to rounding, not in every bit (they did at this x only by chance with an earlier scaling factor)
    assert m.logp(x) == pytest.approx(ref.logp(x), rel=1e-14)
    assert_batch_matches(m, x)
    v = m.compiled.constrain(x)
    want = np.sqrt(1 - v["rho"]) * v["theta"] + np.sqrt(v["rho"] / float(d["scaling_factor"])) * v["phi"]
    np.testing.assert_allclose(v["convolved"], want, rtol=1e-12)


def test_a_row_level_deterministic_adds_no_work_per_gradient():
    # p = inv_logit(eta) kept for every row: before, its ops ran forward and backward on every gradient
    # (W2 at 100,000 rows: 3x slower); now they run when draws are read, and the rest is the same program
    import brr_bayes as bb
    d = make_w2(5000)
    plain, kept = forms.FORMS["W2"]["workloads"](d), forms.FORMS["W2"]["workloads"](d)
    with kept:
        bb.Deterministic("p", bb.math.inv_logit(kept.observed_rvs[0].dist.params["logit_p"]))
    rows = kept.explain().ops
    assert [r for r in rows if r["logp"]] == [r for r in plain.explain().ops if r["logp"]]
    dead = [r for r in rows if not r["logp"]]
    assert dead and all("deterministic only" in r["detail"] for r in dead)
    assert max(r["size"] for r in dead) == 5000
    x = np.random.default_rng(2).normal(scale=0.3, size=plain.dim)
    lp, g = kept.logp_and_grad(x)
    want = plain.logp_and_grad(x)
    assert lp == want[0] and np.array_equal(g, want[1])
    p = kept.compiled.constrain(x)["p"]
    assert p.shape == (5000,) and np.all((p > 0) & (p < 1))
