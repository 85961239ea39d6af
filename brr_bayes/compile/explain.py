"""model.explain(): the compiled program and the compiler's decisions, as a report a modeller can act on."""
from __future__ import annotations

from collections import Counter

from .. import ops


class Explanation:
    """The report (str() or repr() of it); ``ops``, ``rewrites``, ``notes`` hold its parts as data."""

    def __init__(self, text, op_rows, rewrites, notes):
        self.text, self.ops, self.rewrites, self.notes = text, op_rows, rewrites, notes

    def __str__(self):
        return self.text

    __repr__ = __str__


def _ode_detail(ip):
    """An ODE solve's settings and its worst case: at most max_steps step attempts per output interval,
    each so many evaluations of the right-hand side with its Jacobian (the sensitivities are always
    integrated: n x (n + parameters) more values than the states)."""
    n, params, T, method, max_steps = (int(v) for v in ip[1:6])
    name = "rk45" if method == 0 else "bdf"
    per_step = "6 evaluations" if method == 0 else "Newton iterations and 1 evaluation"
    return (f"{name}, {n} states, {params} parameters, {T} output times; budget: <= {max_steps:,} steps per "
            f"output interval ({max_steps * T:,} per solve), each {per_step} of the right-hand side and its "
            f"Jacobian, over {n} states + {n * (n + params):,} sensitivities")


def _glm_row_bytes(p, r):
    """What one row of a GLM op costs in memory as its CPU kernel reads it: indices in 8, 16 or 32 bits
    and data columns as one-byte codes where they have at most 256 values (csrc/ir/narrow.hpp)."""
    ip, inputs = r["ip"], r["inputs"]
    n = r.get("rows", 0)
    total, narrow, coded = 0, 0, 0
    for q in range(4, len(ip), 4):
        kind, vi, xi, di = ip[q:q + 4]
        if kind == ops.TERM_GATHER:
            bits = p.index_bits(r["idx"][xi])
            total += bits // 8
            narrow += bits < 32
        elif kind in (ops.TERM_DENSE, ops.TERM_SCALED):
            total += 8
        if di >= 0:
            c = p.coded_values(inputs[di]) > 0
            total, coded = total + (1 if c else 8), coded + c
    for pos in (ip[1], ip[2], ip[3]):   # response, per-row trials, weights
        if pos >= 0 and p.slot_size(inputs[pos]) == n:
            c = p.coded_values(inputs[pos]) > 0
            total, coded = total + (1 if c else 8), coded + c
    return f"{total} bytes a row ({narrow} narrow indices, {coded} coded columns)"


def _op_rows(cm):
    p, C = cm.program, cm.compiler
    rows = []
    per_gradient = set(p.logp_ops())
    for k, r in enumerate(C.records):
        code = r["code"]
        name = ops.name(code)
        if code == ops.GLM:
            fam = ops.GLM_FAMILY_NAMES.get(r["ip"][0], "?")
            terms = (len(r["ip"]) - 4) // 4
            detail = (f"{fam}, {r.get('rows', 0):,} rows, {terms} linear-predictor terms in one pass; "
                      f"{_glm_row_bytes(p, r)}")
            size = r.get("rows", 0)
        elif code == ops.LINEAR_PREDICTOR:
            size = p.slot_size(r["out"])
            detail = f"{len(r['ip']) // 4} terms in one pass"
        elif code == ops.ODE_SOLVE:
            size = p.slot_size(r["out"])
            detail = _ode_detail(r["ip"])
        else:
            size = p.slot_size(r["out"]) if r["out"] >= 0 else max((p.slot_size(i) for i in r["inputs"]), default=0)
            detail = ""
        if k not in per_gradient:   # only a deterministic reads it: computed when draws are read
            detail = (detail + "; " if detail else "") + "deterministic only, not run per gradient"
        rows.append(dict(op=name, size=int(size), variable=r["var"], detail=detail, logp=k in per_gradient))
    return rows


def explain(model) -> Explanation:
    cm = model.compiled
    C = cm.compiler
    op_rows = _op_rows(cm)
    lines = [f"Model: {cm.dim:,} parameters; program of {len(op_rows)} ops "
             f"(options: {', '.join(cm.compiler.options.passes) or 'no passes'})", ""]
    lines.append(f"  {'#':>3}  {'op':<18} {'values':>10}  {'for':<16} notes")
    for i, r in enumerate(op_rows):
        lines.append(f"  {i:>3}  {r['op']:<18} {r['size']:>10,}  {r['variable'][:16]:<16} {r['detail']}")
    rewrites = Counter(C.canon.rewrites)
    if rewrites:
        lines += ["", "Rewrites (exact; the same numbers computed fewer times):"]
        lines += [f"  {name}: {msg}" + (f" (x{k})" if k > 1 else "") for (name, msg), k in rewrites.items()]
    notes = [n for n in C.notes if "merged into" in n[1]]
    if notes:
        lines += ["", "Likelihood rows merged into cells (exact, from sufficient statistics):"]
        lines += [f"  {msg}" for _, msg in notes]
    declined = list(dict.fromkeys(C.canon.declined + [n for n in C.notes if "merged into" not in n[1]]))
    if declined:
        lines += ["", "Declined (what would make this model faster):"]
        lines += [f"  {topic}: {msg}" for topic, msg in declined]
    big = [r for r in op_rows if r["op"] not in ("glm", "linear_predictor") and r["size"] >= 10_000 and r["logp"]]
    if big:
        lines += ["", f"{len(big)} op(s) run over 10,000+ values each evaluation; the declines above say why "
                      "they were not merged or fused."]
    return Explanation("\n".join(lines), op_rows, list(rewrites), declined)
