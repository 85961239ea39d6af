"""The package is installed with its C++ core; CUDA sources compile here when nvcc exists."""
import os
import shutil
import subprocess
import sys

import pytest

import brr_bayes as bb


def test_core_imports_from_outside_the_source_tree(tmp_path):
    out = subprocess.run([sys.executable, "-c", "import brr_bayes, brr_bayes._core as c; print(c.__version__)"],
                         cwd=tmp_path, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == bb.__version__


@pytest.mark.skipif(not (shutil.which("nvcc") or os.path.exists("/usr/local/cuda/bin/nvcc")),
                    reason="nvcc not installed")
def test_cuda_extension_was_built_when_nvcc_exists():
    if os.environ.get("BRR_BAYES_CUDA") == "0":
        pytest.skip("CUDA build disabled by BRR_BAYES_CUDA=0")
    assert bb.cuda_built(), "nvcc is present but brr_bayes._cuda was not built: see the build log"


def test_cuda_available_agrees_with_the_devices_the_kernel_shows():
    # judged from outside the library: the NVIDIA driver makes /dev/nvidia0, /dev/nvidia1, ... per GPU
    import glob
    gpus = [p for p in glob.glob("/dev/nvidia*") if p[len("/dev/nvidia"):].isdigit()]
    if not gpus or not bb.cuda_built():
        assert bb.cuda_available() is False
    else:
        assert bb.cuda_available() is True


def test_cli_info_and_module_entry(tmp_path):
    out = subprocess.run([sys.executable, "-m", "brr_bayes", "info"], capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "brr_bayes" in out.stdout and "CUDA built" in out.stdout and "GPU visible" in out.stdout


def test_cli_demo_small_run(tmp_path):
    out = subprocess.run([sys.executable, "-m", "brr_bayes", "demo", "--n", "600", "--draws", "150", "--tune", "150",
                          "--chains", "2", "--quiet"], capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "r_hat" in out.stdout and "Convergence of the parameters above:" in out.stdout and "Recovery:" in out.stdout


@pytest.mark.slow
def test_cpu_only_build_needs_no_nvcc(tmp_path):
    """A wheel built with BRR_BAYES_CUDA=0 and no CUDA on PATH holds _core and no _cuda."""
    import pathlib
    import zipfile
    root = pathlib.Path(__file__).resolve().parents[1]
    env = dict(os.environ, BRR_BAYES_CUDA="0",
               PATH=os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if "cuda" not in p
                                    and not os.path.exists(os.path.join(p, "nvcc"))))
    out = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", str(root), "-w", str(tmp_path)],
                         env=env, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr[-2000:]
    names = zipfile.ZipFile(next(tmp_path.glob("*.whl"))).namelist()
    assert any("_core" in n and n.endswith(".so") for n in names)
    assert not any("_cuda" in n for n in names)
