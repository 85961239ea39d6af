"""Split an lme4/brms-style formula into response, fixed-effects text, offsets and group terms.

Only the multilevel syntax is parsed here (``(1 + x | g)``, ``(1 | g1:g2)``, ``(1 | g1/g2)``, ``||``,
``offset(col)``, ``y | trials(n)``); the fixed-effects part is handed to formulaic, which knows
contrasts, interactions and transforms. Every syntax error points at its position in the formula.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

_NAME = r"[A-Za-z_.][A-Za-z0-9_.]*"


class FormulaError(ValueError):
    """A formula that cannot be read; the message shows the formula with a caret at the problem."""

    def __init__(self, formula, pos, message):
        self.formula, self.pos = formula, pos
        caret = " " * max(pos, 0) + "^"
        super().__init__(f"{message}\n    {formula}\n    {caret}")


@dataclass
class Term:
    text: str      # as written (stripped)
    start: int     # position of its first character in the formula


@dataclass
class GroupTerm:
    inner: Term                  # "1 + x" of "(1 + x | g)"
    factors: list                # ["state", "race"] for g = state:race
    correlated: bool             # False for "||"
    start: int

    @property
    def label(self):
        return ":".join(self.factors)


@dataclass
class ParsedFormula:
    formula: str
    response: Term
    trials: Term | None
    fixed: list = field(default_factory=list)     # Terms for formulaic
    offsets: list = field(default_factory=list)   # Terms naming offset columns
    groups: list = field(default_factory=list)    # GroupTerms


def _split_top(formula, start, end):
    """Pieces of formula[start:end] split on '+' at parenthesis depth 0, as Terms; checks brackets."""
    pieces, depth, last = [], 0, start
    for i in range(start, end):
        ch = formula[i]
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise FormulaError(formula, i, "unmatched ')'")
        elif depth == 0 and ch == "+":
            pieces.append((last, i))
            last = i + 1
    if depth > 0:
        opened = [i for i in range(start, end) if formula[i] == "("]
        raise FormulaError(formula, opened[-depth] if depth <= len(opened) else start, "unclosed '('")
    pieces.append((last, end))
    out = []
    for a, b in pieces:
        text = formula[a:b]
        stripped = text.strip()
        pos = a + (len(text) - len(text.lstrip()))
        if not stripped:
            raise FormulaError(formula, min(pos, len(formula) - 1) if formula else 0,
                               "empty term: a '+' needs a term on each side")
        out.append(Term(stripped, pos))
    return out


def _matching_paren(text, open_pos):
    depth = 0
    for i in range(open_pos, len(text)):
        depth += text[i] == "("
        depth -= text[i] == ")"
        if depth == 0:
            return i
    return -1


def _group_factors(formula, text, start):
    """'g', 'g1:g2' or 'g1/g2' (nesting: g1 and g1:g2) -> list of factor lists."""
    t = text.strip()
    pos = start + (len(text) - len(text.lstrip()))
    if not t:
        raise FormulaError(formula, pos, "a grouping term needs a grouping column after '|'")
    if "/" in t:
        parts = [p.strip() for p in t.split("/")]
        for p in parts:
            if not re.fullmatch(_NAME, p):
                raise FormulaError(formula, pos + t.find(p), f"'{p}' is not a column name in nested grouping '{t}'")
        return [parts[:k] for k in range(1, len(parts) + 1)]
    parts = [p.strip() for p in t.split(":")]
    for p in parts:
        if not re.fullmatch(_NAME, p):
            off = t.find(p) if p else t.find("::")
            raise FormulaError(formula, pos + max(off, 0),
                               f"'{p}' is not a column name; grouping terms look like (1 | g) or (1 | g1:g2)")
    return [parts]


def _group_term(formula, term):
    """GroupTerms of '(inner | g)' or '(inner || g)', or None when the term is not a group term."""
    t = term.text
    if not t.startswith("(") or _matching_paren(t, 0) != len(t) - 1:
        return None
    body_start = term.start + 1
    body = t[1:-1]
    depth, bar = 0, -1
    for i, ch in enumerate(body):
        depth += ch == "("
        depth -= ch == ")"
        if ch == "|" and depth == 0:
            bar = i
            break
    if bar < 0:
        return None
    correlated = not body.startswith("||", bar)
    rhs_at = bar + (1 if correlated else 2)
    inner_text = body[:bar]
    if not inner_text.strip():
        raise FormulaError(formula, body_start + bar,
                           "a grouping term needs effects before '|', e.g. (1 | g) for a varying intercept")
    if "|" in body[rhs_at:]:
        raise FormulaError(formula, body_start + rhs_at + body[rhs_at:].index("|"), "more than one '|' in a term")
    inner = Term(inner_text.strip(), body_start + (len(inner_text) - len(inner_text.lstrip())))
    return [GroupTerm(inner, factors, correlated, term.start)
            for factors in _group_factors(formula, body[rhs_at:], body_start + rhs_at)]


def parse_formula(formula: str) -> ParsedFormula:
    """Read 'y ~ fixed + (1 | g) + offset(o)' (and 'y | trials(n) ~ ...') into its parts."""
    if not isinstance(formula, str):
        raise TypeError(f"formula must be a string such as 'y ~ 1 + x + (1 | g)', got {type(formula).__name__}")
    if formula.count("~") != 1:
        pos = formula.find("~", formula.find("~") + 1) if formula.count("~") > 1 else len(formula)
        raise FormulaError(formula, pos, "a formula needs exactly one '~' between the response and the predictors")
    tilde = formula.index("~")
    lhs = formula[:tilde]
    if not lhs.strip():
        raise FormulaError(formula, 0, "missing response before '~'")
    trials = None
    if "|" in lhs:
        bar = lhs.index("|")
        m = re.fullmatch(r"\s*trials\s*\(\s*(" + _NAME + r")\s*\)\s*", lhs[bar + 1:])
        if not m:
            raise FormulaError(formula, bar + 1, "after '|' the response takes trials(column), as in 'y | trials(n) ~ ...'")
        trials = Term(m.group(1), bar + 1 + m.start(1))
        lhs = lhs[:bar]
    resp = lhs.strip()
    if not re.fullmatch(_NAME, resp):
        raise FormulaError(formula, len(lhs) - len(lhs.lstrip()), f"the response must be a column name, got '{resp}'")
    parsed = ParsedFormula(formula, Term(resp, len(lhs) - len(lhs.lstrip())), trials)
    if not formula[tilde + 1:].strip():
        raise FormulaError(formula, len(formula), "missing predictors after '~' (use '1' for an intercept only)")
    for term in _split_top(formula, tilde + 1, len(formula)):
        m = re.fullmatch(r"offset\s*\(\s*(" + _NAME + r")\s*\)", term.text)
        if m:
            parsed.offsets.append(Term(m.group(1), term.start + m.start(1)))
            continue
        groups = _group_term(formula, term)
        if groups is not None:
            parsed.groups.extend(groups)
            continue
        if "|" in term.text:
            raise FormulaError(formula, term.start + term.text.index("|"),
                               "'|' belongs inside a grouping term written in parentheses, e.g. (1 + x | g)")
        parsed.fixed.append(term)
    return parsed
