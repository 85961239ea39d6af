"""docs/forecast_walkthrough.py runs end to end (small: 2 daily refits, 2 simulated elections): the refits
warm-start from each other, the win probabilities and the coverage are probabilities, the figures exist."""
import json
import pathlib
import subprocess
import sys

DOCS = pathlib.Path(__file__).resolve().parents[1] / "docs"


def test_the_forecast_walkthrough_runs(tmp_path):
    out = subprocess.run([sys.executable, str(DOCS / "forecast_walkthrough.py"), "--days", "2", "--coverage-sims", "2",
                          "--draws", "200", "--out", str(tmp_path)], capture_output=True, text=True, timeout=600,
                         cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    summary = json.loads((tmp_path / "forecast_summary.json").read_text())
    assert summary["warm_starts"] == [None, "day059.nc"]
    assert all(0 <= d["win"] <= 1 for d in summary["win_probability"])
    assert summary["coverage_intervals"] == 2 * 12
    assert all(0 <= c <= 1 for c in summary["coverage"].values())
    for name in ("forecast_trend.png", "forecast_states.png", "forecast_win.png"):
        assert (tmp_path / name).stat().st_size > 1000
