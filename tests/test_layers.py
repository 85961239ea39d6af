"""The package's layers import only downwards: model (describe) < compile (lower) < infer (sample) <
formula, with no exception (the compiler is handed to bb.Model by brr_bayes.compile). Checked on the
source, every import statement (inside functions too), so a new upward import fails here instead of
surfacing later as a cycle; and no module reaches itself through the package's imports."""
import ast
import pathlib

import pytest

PKG = pathlib.Path(__file__).resolve().parents[1] / "brr_bayes"
BASE = {"ops", "_op_codes", "_backend", "_version", "portable"}   # the op table, the extension loader, the version, bit-portable linear algebra
ALLOWED = {
    "model": BASE | {"model"},
    "compile": BASE | {"model", "compile"},
    "infer": BASE | {"model", "compile", "infer"},
}


def _targets(path):
    """(line, top-level brr_bayes module) for every import in the file at path."""
    rel = path.relative_to(PKG)
    here = list(rel.parts[:-1])
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[:len(here) - (node.level - 1)] if node.level > 1 else here
                parts = base + (node.module.split(".") if node.module else [])
                names = [parts] if parts else [[a.name] for a in node.names]   # `from .. import x`
            elif node.module and node.module.startswith("brr_bayes"):
                parts = node.module.split(".")[1:]
                names = [parts] if parts else [[a.name] for a in node.names]
            else:
                continue
        elif isinstance(node, ast.Import):
            names = [a.name.split(".")[1:] for a in node.names if a.name.startswith("brr_bayes.")]
        else:
            continue
        for parts in names:
            top = parts[0] if parts else "__init__"
            yield node.lineno, top


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_layer_imports_only_downwards(layer):
    bad = []
    for path in sorted((PKG / layer).rglob("*.py")):
        rel = str(path.relative_to(PKG))
        for line, top in _targets(path):
            if top not in ALLOWED[layer]:
                bad.append(f"{rel}:{line} imports brr_bayes.{top}")
    assert not bad, f"{layer} may import only {sorted(ALLOWED[layer])}: " + "; ".join(bad)


def test_checker_sees_an_upward_import(tmp_path, monkeypatch):
    # the check itself can fail: a model module importing infer is reported
    fake = tmp_path / "brr_bayes"
    (fake / "model" / "distributions").mkdir(parents=True)
    (fake / "model" / "distributions" / "x.py").write_text("def f():\n    from ...infer import sample\n")
    monkeypatch.setattr(__import__(__name__), "PKG", fake)
    assert list(_targets(fake / "model" / "distributions" / "x.py")) == [(2, "infer")]
    with pytest.raises(AssertionError, match="model/distributions/x.py:2 imports brr_bayes.infer"):
        test_layer_imports_only_downwards("model")


def _module_graph(pkg):
    """{module: modules of the package it imports}, every import statement counted (inside functions too)."""
    mods = {}
    for p in pkg.rglob("*.py"):
        parts = p.relative_to(pkg.parent).with_suffix("").parts
        mods[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = p
    graph = {}
    for name, p in mods.items():
        here = name.split(".") if p.name == "__init__.py" else name.split(".")[:-1]
        out = set()
        for node in ast.walk(ast.parse(p.read_text())):
            if isinstance(node, ast.ImportFrom):
                base = ".".join(here[:len(here) - node.level + 1] + ([node.module] if node.module else [])) \
                    if node.level else (node.module or "")
                targets = [f"{base}.{a.name}" for a in node.names] + [base]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            for t in targets:
                while t and t not in mods:
                    t = t.rpartition(".")[0]
                if t and t != name:
                    out.add(t)
                    break
        graph[name] = out
    return graph


def _cycles(graph):
    """Strongly connected groups of more than one module (Tarjan, iterative)."""
    index, low, on, stack, found, counter = {}, {}, set(), [], [], [0]
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    group = []
                    while True:
                        x = stack.pop()
                        on.discard(x)
                        group.append(x)
                        if x == v:
                            break
                    if len(group) > 1:
                        found.append(sorted(group))
            elif w not in index:
                index[w] = low[w] = counter[0]
                counter[0] += 1
                stack.append(w)
                on.add(w)
                work.append((w, iter(sorted(graph[w]))))
            elif w in on:
                low[v] = min(low[v], index[w])
    return found


def test_no_module_imports_itself_round_about():
    # import circles hide behind imports inside functions; counted here, they fail whatever their place
    assert _cycles(_module_graph(PKG)) == []


def test_the_cycle_check_sees_a_cycle(tmp_path):
    fake = tmp_path / "brr_bayes"
    (fake / "infer").mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    (fake / "infer" / "__init__.py").write_text("")
    (fake / "infer" / "a.py").write_text("from .b import f\n")
    (fake / "infer" / "b.py").write_text("def f():\n    from . import a\n")
    assert _cycles(_module_graph(fake)) == [["brr_bayes.infer.a", "brr_bayes.infer.b"]]


# The C++ core's directories, and which others each may include (csrc/, by its first path component).
CSRC = PKG.parent / "csrc"
CXX_ALLOWED = {
    "common": {"common"},
    "ir": {"ir", "common"},                                        # the Program as data
    "ops": {"ops", "ir", "common"},                                # each op's spec: shape rule and row maths
    "ode": {"ode"},                                                # solvers know nothing of programs
    "ad": {"ad", "ir", "ops", "common", "density", "ode"},         # the CPU executors
    "density": {"density", "ad", "ir", "ops", "common"},           # the fused densities without a spec yet
    "backend": {"backend", "ad", "ir", "ops", "common", "density"},  # the device executor
    "infer": {"infer", "common"},                                  # samplers see only the LogDensity seams
    "bindings": {"bindings", "ad", "ir", "common", "backend", "infer", "density", "ode"},
}


def _cxx_includes(path):
    import re
    for n, line in enumerate(path.read_text().splitlines(), 1):
        m = re.match(r'\s*#\s*include\s*[<"]([^>"]+)[>"]', line)
        if m:
            yield n, m.group(1)


def test_csrc_directories_include_only_downwards():
    bad = []
    for path in sorted(CSRC.rglob("*")):
        if path.suffix not in (".hpp", ".cpp", ".def"):
            continue
        layer = path.relative_to(CSRC).parts[0]
        assert layer in CXX_ALLOWED, f"csrc/{layer}/ is not in this test's table: add it with what it may include"
        for line, inc in _cxx_includes(path):
            top = inc.split("/")[0]
            if "/" in inc and top in CXX_ALLOWED and top not in CXX_ALLOWED[layer]:
                bad.append(f"{path.relative_to(CSRC)}:{line} includes {inc}")
            if inc.startswith("pybind11") and layer != "bindings":
                bad.append(f"{path.relative_to(CSRC)}:{line} includes {inc} (Python headers belong in bindings/)")
    assert not bad, "; ".join(bad)


def test_sampler_families_sit_beside_each_other_below_the_registry():
    # infer/ holds what every sampler shares (LogDensity, metric, adaptation, chain state, the Run);
    # nuts/, chees/ and meads/ build on it and never on each other; only the registry names the families.
    families = {"nuts", "chees", "meads"}
    bad = []
    for path in sorted((CSRC / "infer").rglob("*")):
        if path.suffix not in (".hpp", ".cpp"):
            continue
        parts = path.relative_to(CSRC / "infer").parts
        own = parts[0] if len(parts) > 1 else None
        for line, inc in _cxx_includes(path):
            bits = inc.split("/")
            if len(bits) > 2 and bits[0] == "infer" and bits[1] in families and bits[1] != own \
                    and path.name != "registry.cpp":
                bad.append(f"infer/{'/'.join(parts)}:{line} includes {inc}")
    assert not bad, "; ".join(bad)


# Imported where they are used, not at a module's top: dependencies that are heavy to import (arviz and
# the xarray/pandas stack behind it, scipy's submodules, formulaic) or optional (the peers, Dask, CuPy).
LAZY = {"arviz", "xarray", "pandas", "scipy", "formulaic", "tqdm", "threadpoolctl", "jax", "numpyro", "pymc", "nutpie",
        "cmdstanpy", "dask", "distributed", "cupy", "matplotlib", "polars", "h5py", "netCDF4"}


def _imports_in_functions(root):
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for sub in ast.walk(node):
                if isinstance(sub, ast.ImportFrom) and not sub.level and sub.module.split(".")[0] in LAZY:
                    continue
                if isinstance(sub, ast.Import) and all(a.name.split(".")[0] in LAZY for a in sub.names):
                    continue
                if isinstance(sub, (ast.Import, ast.ImportFrom)):
                    yield f"{path.relative_to(root)}:{sub.lineno} {ast.unparse(sub)}"


def test_modules_import_at_their_top():
    # an import inside a function hides a module's dependencies (and, before, import circles); only the
    # heavy and optional third-party ones wait until they are needed
    assert list(_imports_in_functions(PKG)) == []


def test_the_top_import_check_sees_one_inside_a_function(tmp_path):
    (tmp_path / "m.py").write_text("def f():\n    import json\n    import arviz\n    from .x import y\n")
    assert list(_imports_in_functions(tmp_path)) == ["m.py:2 import json", "m.py:4 from .x import y"]


def test_benchmark_code_stays_out_of_the_package():
    # the workloads W1-W5, their other formulations and the peers' models live in benchmarks/ (issue 33):
    # the installed package ships only what its users call, the demo's example survey included
    assert not {p.name for p in PKG.iterdir() if p.is_dir()} & {"bench", "workloads", "harness"}
    bad = []
    for path in sorted(PKG.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            mods = ([node.module] if isinstance(node, ast.ImportFrom) and not node.level and node.module else
                    [a.name for a in node.names] if isinstance(node, ast.Import) else [])
            bad += [f"{path.relative_to(PKG)}:{node.lineno} imports {m}" for m in mods
                    if m.split(".")[0] in {"workloads", "harness"}]
    assert not bad, "; ".join(bad)
