"""The package's layers import only downwards: model (describe) < compile (lower) < infer (sample) <
formula. Checked on the source, every import statement (inside functions too), so a new upward import
fails here instead of surfacing later as a cycle."""
import ast
import pathlib

import pytest

PKG = pathlib.Path(__file__).resolve().parents[1] / "brr_bayes"
BASE = {"ops", "_op_codes", "_backend", "_version"}   # the op table, the extension loader, the version
ALLOWED = {
    "model": BASE | {"model"},
    "compile": BASE | {"model", "compile"},
    "infer": BASE | {"model", "compile", "infer"},
}
# The one upward edge, taken lazily: Model.compiled builds the compiler's CompiledModel on first use.
EXCEPTIONS = {("model/core.py", "compile")}


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
            if top not in ALLOWED[layer] and (rel, top) not in EXCEPTIONS:
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
