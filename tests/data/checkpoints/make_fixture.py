"""Writes w1_881d5c4.nc (a finished run) and w1_881d5c4_killed.nc (a run killed in warm-up, after its
second checkpoint): checkpoint files as brr_bayes wrote them before checkpoints were appended
(commit 881d5c4: the whole run rewritten as one netCDF Result at every checkpoint). Run it with that
commit's build on the path:

    git worktree add /tmp/old 881d5c4 && cd /tmp/old && python setup.py build_ext --inplace
    PYTHONPATH=/tmp/old python tests/data/checkpoints/make_fixture.py   # from the current checkout

tests/test_checkpoint.py resumes them with today's code and checks the draws against an uninterrupted run.
"""
import pathlib
import warnings

import brr_bayes as bb
from workloads import data, models

HERE = pathlib.Path(__file__).resolve().parent
KW = dict(draws=100, tune=150, chains=2, seed=20261207, progressbar=False)

class Killed(Exception):
    pass


if __name__ == "__main__":
    model = models.eight_schools(data.make_w1())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bb.sample(model, checkpoint=HERE / "w1_881d5c4.nc", checkpoint_every=50, **KW)
        save, calls = bb.Result.save, []

        def dies_at_the_third(self, path):     # the process is killed as it writes its third checkpoint
            calls.append(path)
            if len(calls) == 3:
                raise Killed
            return save(self, path)
        bb.Result.save = dies_at_the_third
        try:
            bb.sample(model, checkpoint=HERE / "w1_881d5c4_killed.nc", checkpoint_every=50, **KW)
        except Killed:
            pass
    print(f"wrote the fixtures in {HERE} with brr_bayes from {bb.__file__}")
