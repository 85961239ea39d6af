"""Build brr_bayes._core (C++17, always) and brr_bayes._cuda (only when nvcc is found).

Environment:
  BRR_BAYES_NATIVE=1   add -march=native (off by default: wheels must run on any x86-64)
  BRR_BAYES_CUDA=0     never build the CUDA extension
  BRR_BAYES_CUDA=1     building it is required: a missing nvcc is an error
  BRR_BAYES_CUDA_ARCH  nvcc -gencode targets, default "90" (Hopper) plus PTX for 80
  BRR_BAYES_LIBMVEC=0  do not use glibc's libmvec (vectorised exp/log) even where it links
"""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

from pybind11.setup_helpers import ParallelCompile, Pybind11Extension, build_ext
from setuptools import setup

ParallelCompile("BRR_BAYES_BUILD_JOBS", default=0).install()

HERE = os.path.dirname(os.path.abspath(__file__))
# The version is written once, in brr_bayes/_version.py (pyproject.toml reads it there too).
VERSION = re.search(r'__version__ = "([^"]+)"', open(os.path.join(HERE, "brr_bayes", "_version.py")).read()).group(1)
# -falign-loops/-functions=32: hot loops start on 32-byte boundaries whatever the size of the code linked
# before them; without it, growing the sampler bindings (unrelated code) moved the GLM kernels and cost W2's
# gradient 9% (7,370 -> 6,730 evals/s), which these flags give back (7,370). They change no result bit.
CXX_FLAGS = ["-O3", "-falign-loops=32", "-falign-functions=32", "-fno-math-errno", "-fno-trapping-math",
             "-ffp-contract=off", "-Wall", "-Wno-unused-function"]
if os.environ.get("BRR_BAYES_NATIVE") == "1":
    CXX_FLAGS.append("-march=native")


def _sources(pattern):
    # Sorted so that builds are reproducible whatever the file system's order.
    return sorted(os.path.relpath(p, HERE) for p in glob.glob(os.path.join(HERE, pattern), recursive=True))


def _write_op_codes():
    """brr_bayes/_op_codes.py from csrc/ir/ops.def, the one op table, and csrc/ir/glm.def (C++ reads both as
    X-macros)."""
    rows = re.findall(r"^BRR_OP\((\w+), (\d+), (\w+), (-?\d+), (-?\d+), (-?\d+), (-?\d+), ([01])\)",
                      open(os.path.join(HERE, "csrc", "ir", "ops.def")).read(), re.M)
    lines = ['"""Op codes, written by setup.py from csrc/ir/ops.def and glm.def (the C++ constants come from the same files): do not edit."""',
             ""] + [f"{py} = {code}" for _, code, py, *_ in rows]
    lines += ["", "TABLE = {" + ", ".join(f"{py!r}: {py}" for _, _, py, *_ in rows) + "}", "",
              "# code -> (inputs min, inputs max (-1: any), index arrays (-1: any), integer parameters at least, output 1/0)",
              "SIGNATURES = {" + ", ".join(f"{py}: ({', '.join(sig)})" for _, _, py, *sig in rows) + "}", ""]
    glm = open(os.path.join(HERE, "csrc", "ir", "glm.def")).read()
    families = re.findall(r'^BRR_GLM_FAMILY\((\w+), (\d+), (\w+), "([^"]+)"\)', glm, re.M)
    kinds = re.findall(r"^BRR_TERM_KIND\((\w+), (\d+), (\w+)\)", glm, re.M)
    lines += ["# the GLM op's families and the linear-predictor term kinds (csrc/ir/glm.def)"]
    lines += [f"{py} = {code}" for _, code, py, _ in families] + [f"{py} = {code}" for _, code, py in kinds]
    lines += ["GLM_FAMILY_NAMES = {" + ", ".join(f"{py}: {name!r}" for _, _, py, name in families) + "}", ""]
    text = "\n".join(lines)
    target = os.path.join(HERE, "brr_bayes", "_op_codes.py")
    if not os.path.exists(target) or open(target).read() != text:
        with open(target, "w") as fh:
            fh.write(text)


_write_op_codes()


def _find_nvcc():
    mode = os.environ.get("BRR_BAYES_CUDA", "auto")
    if mode == "0":
        return None
    nvcc = shutil.which("nvcc") or (os.path.exists("/usr/local/cuda/bin/nvcc") and "/usr/local/cuda/bin/nvcc")
    if not nvcc and mode == "1":
        sys.exit("BRR_BAYES_CUDA=1 but nvcc was not found. Fix: put the CUDA toolkit's bin/ on PATH, "
                 "or unset BRR_BAYES_CUDA to build without CUDA.")
    return nvcc or None


core = Pybind11Extension(
    "brr_bayes._core",
    _sources("csrc/**/*.cpp"),
    # headers too, so an in-place rebuild (python setup.py build_ext --inplace) notices a header-only change
    depends=_sources("csrc/**/*.hpp") + _sources("csrc/**/*.def"),
    include_dirs=["csrc"],
    cxx_std=17,
    extra_compile_args=CXX_FLAGS,
    extra_link_args=["-pthread"],
    define_macros=[("BRR_VERSION_INFO", '"%s"' % VERSION), ("BRR_CXX_FLAGS", '"%s"' % " ".join(CXX_FLAGS))],
)
ext_modules = [core]

NVCC = _find_nvcc()
if NVCC:
    cuda_home = os.environ.get("CUDA_HOME") or os.environ.get("CUDA_PATH")
    if not cuda_home:
        guess = os.path.dirname(os.path.dirname(os.path.realpath(NVCC)))
        cuda_home = guess if os.path.exists(os.path.join(guess, "include", "cuda_runtime.h")) else "/usr/local/cuda"
    ext_modules.append(Pybind11Extension(
        "brr_bayes._cuda",
        _sources("cuda/*.cpp"),
        depends=_sources("cuda/*.cu") + _sources("cuda/*.hpp") + _sources("csrc/**/*.hpp") + _sources("csrc/**/*.def"),
        include_dirs=["csrc", "cuda", os.path.join(cuda_home, "include")],
        cxx_std=17,
        extra_compile_args=CXX_FLAGS,
        library_dirs=[os.path.join(cuda_home, "lib64")],
        # Static cudart: the module imports on machines without a driver; cudart finds none and says so.
        libraries=["cudart_static", "dl", "rt", "pthread"],
    ))


# A program that links only where glibc's libmvec provides the AVX2 kernels vec_math.cpp calls.
_MVEC_CHECK = """
#include <immintrin.h>
extern "C" { __m256d _ZGVdN4v_exp(__m256d); __m256d _ZGVdN4v_log(__m256d); __m256d _ZGVdN4v_log1p(__m256d);
             __m256d _ZGVdN4v_cos(__m256d); __m256d _ZGVdN4v_sin(__m256d); }
int main(int argc, char**) {
  __m256d x = _mm256_set1_pd(argc);
  x = _ZGVdN4v_log1p(_ZGVdN4v_log(_ZGVdN4v_exp(x)));
  x = _ZGVdN4v_sin(_ZGVdN4v_cos(x));
  return _mm256_cvtsd_f64(x) > 1e300;
}
"""


class BuildExt(build_ext):
    """Compile cuda/*.cu with nvcc into objects linked into brr_bayes._cuda."""

    def run(self):
        self._cuda_built = False
        super().run()
        if not self._cuda_built and not self.inplace:
            # a _cuda module left in build/ by an earlier CUDA build must not ship in a CPU-only wheel
            for stale in glob.glob(os.path.join(self.build_lib, "brr_bayes", "_cuda*")):
                print(f"NOTE: removing {stale}: this build has no CUDA extension", file=sys.stderr)
                os.remove(stale)

    def build_extension(self, ext):
        if ext.name == "brr_bayes._core" and self._links_libmvec():
            ext.define_macros.append(("BRR_HAVE_LIBMVEC", "1"))
            ext.libraries.append("mvec")
        if ext.name != "brr_bayes._cuda":
            return super().build_extension(ext)
        try:
            ext.extra_objects = self._nvcc_objects()
            super().build_extension(ext)
            self._cuda_built = True
        except (subprocess.CalledProcessError, OSError, Exception) as e:  # noqa: BLE001
            if os.environ.get("BRR_BAYES_CUDA") == "1":
                raise
            # auto mode: a broken CUDA toolkit must not block the CPU build (tests check cuda_built()).
            print(f"WARNING: building brr_bayes._cuda failed ({e}); continuing without CUDA. "
                  "Set BRR_BAYES_CUDA=1 to make this an error.", file=sys.stderr)

    def _links_libmvec(self):
        """Whether glibc's libmvec AVX2 exp/log/log1p/cos/sin link here (csrc/common/vec_math.cpp uses them)."""
        if os.environ.get("BRR_BAYES_LIBMVEC") == "0" or not sys.platform.startswith("linux"):
            return False
        with tempfile.TemporaryDirectory() as tmp:
            src = os.path.join(tmp, "mvec_check.cpp")
            with open(src, "w") as f:
                f.write(_MVEC_CHECK)
            try:
                objs = self.compiler.compile([src], output_dir=tmp, extra_postargs=["-mavx2"])
                self.compiler.link_executable(objs, "mvec_check", output_dir=tmp, libraries=["mvec", "m"])
            except Exception:  # noqa: BLE001 - any compile or link failure means "no libmvec"
                print("NOTE: glibc's libmvec was not found; exp/log run through scalar libm.", file=sys.stderr)
                return False
        return True

    def _nvcc_objects(self):
        arch = os.environ.get("BRR_BAYES_CUDA_ARCH", "90")
        gencode = []
        for a in arch.split(","):
            gencode += ["-gencode", f"arch=compute_{a},code=sm_{a}"]
        gencode += ["-gencode", "arch=compute_80,code=compute_80"]
        objs = []
        out_dir = os.path.join(self.build_temp, "cuda")
        os.makedirs(out_dir, exist_ok=True)
        for src in _sources("cuda/*.cu"):
            obj = os.path.join(out_dir, os.path.basename(src) + ".o")
            cmd = [NVCC, "-c", src, "-o", obj, "-O3", "-std=c++17", "-Icsrc", "-Icuda",
                   "-Xcompiler", "-fPIC", *gencode]
            print(" ".join(cmd))
            subprocess.check_call(cmd, cwd=HERE)
            objs.append(obj)
        return objs


setup(ext_modules=ext_modules, cmdclass={"build_ext": BuildExt})
