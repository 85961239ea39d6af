#!/usr/bin/env bash
# The device check, in one go on a machine with an NVIDIA GPU (a few minutes): builds brr_bayes with CUDA
# for the visible device, runs the gpu-marked tests (the device executor against the CPU on W1-W5 and on
# every op family) and the GPU benchmark (benchmarks/gpu_bench.py: evaluations, W2
# bandwidth, then device sampling against CPU NUTS), and writes every log and table to
# $OUT (default ./gpu_check_out). Needs python3 with numpy, scipy, pybind11, setuptools and pytest.
#   bash benchmarks/gpu_check.sh            # from the repository root; on the lent machine carry .whl
#                                           # (benchmarks/device_wheels.sh) for arviz and the rest
set -uo pipefail
OUT=${OUT:-$PWD/gpu_check_out}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
PY=${PYTHON:-python3}
if [ -d .whl ]; then   # packages the machine's image lacks (benchmarks/device_wheels.sh made them)
  $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    && export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
{ nvidia-smi; nvcc --version; $PY --version; git log -1 --oneline 2>/dev/null; } > "$OUT/device.txt" 2>&1
arch=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d '.')
export BRR_BAYES_CUDA=1 BRR_BAYES_CUDA_ARCH=${arch:-90} BRR_BAYES_BUILD_JOBS=${BRR_BAYES_BUILD_JOBS:-8}
if ! $PY setup.py -q build_ext --inplace > "$OUT/build.log" 2>&1; then
  echo "build failed:"; tail -40 "$OUT/build.log"; exit 1
fi
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
$PY -c "import brr_bayes._cuda as c; print('devices:', c.device_count(), c.device_name(0))" 2>&1 | tee -a "$OUT/device.txt"
$PY -m pytest -q -m gpu -p no:cacheprovider tests/test_cuda.py 2>&1 | tee "$OUT/tests.log"
tests=${PIPESTATUS[0]}
# the evaluation table and W2 bandwidth come first and are written at once; the sampling runs after them
# are cut at BENCH_SECONDS (what they printed stays in bench.log), so the whole check fits its slot
timeout "${BENCH_SECONDS:-330}" $PY benchmarks/gpu_bench.py --out "$OUT/gpu_bench.md" 2>&1 | tee "$OUT/bench.log"
bench=${PIPESTATUS[0]}
if [ "$bench" = 124 ]; then echo "benchmark cut at ${BENCH_SECONDS:-330} s (what it measured is in bench.log)" | tee -a "$OUT/device.txt"; bench=0; fi
echo "tests exit $tests, benchmark exit $bench" | tee -a "$OUT/device.txt"
exit $(( tests || bench ))
