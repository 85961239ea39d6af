#!/usr/bin/env bash
# The pure-Python packages brr_bayes needs that the lent GPU machine's image lacks (it has numpy, scipy,
# pandas, xarray, pybind11, pytest, hypothesis, CuPy; nothing can be fetched there): downloaded here into
# .whl/ (git-ignored), carried with the device run, and installed by gpu_check.sh when .whl/ is there.
#   bash benchmarks/device_wheels.sh && grep -q '^/.whl/' .git/info/exclude || echo /.whl/ >> .git/info/exclude
set -euo pipefail
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64 -d .whl \
  arviz==0.23.4 xarray-einstats h5netcdf platformdirs
ls .whl
