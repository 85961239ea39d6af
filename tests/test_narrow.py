"""Narrow copies of row data (csrc/ir/narrow.hpp): which indices and constants get them, exactly. They
are made for the rows of the ops that read them (LinearPredictor, GlmLpdf), so each case adds one."""
import numpy as np
import pytest

from brr_bayes import _backend, ops

C = _backend.core()
ROWS = 5000   # above kNarrowMinRows (4096)


def _program():
    return C.Program(1)


def _gather(p, values, bound):
    """An index of `values` < bound, read by a LinearPredictor's gather term."""
    i = p.add_index(values, bound)
    p.add_op(ops.LINEAR_PREDICTOR, [p.add_slot(bound)], p.add_slot(len(values)), [i], [ops.TERM_GATHER, 0, 0, -1])
    return i


def _column(p, values):
    """A constant read as a LinearPredictor's data column (a scalar times it)."""
    s = p.add_const(values)
    p.add_op(ops.LINEAR_PREDICTOR, [p.add_slot(1), s], p.add_slot(len(values)), [], [ops.TERM_SCALAR, 0, -1, 1])
    return s


@pytest.mark.parametrize("bound,bits", [(2, 8), (256, 8), (257, 16), (65_536, 16), (65_537, 32)])
def test_index_width_follows_its_bound(bound, bits):
    p = _program()
    values = np.arange(ROWS) % min(bound, ROWS)
    assert p.index_bits(_gather(p, values, bound)) == bits


def test_short_rows_keep_their_storage():
    p = _program()
    assert p.index_bits(_gather(p, np.zeros(100, dtype=np.int64), 4)) == 32
    assert p.coded_values(_column(p, np.zeros(100))) == 0


def test_rows_no_row_kernel_reads_keep_their_storage():
    p = _program()
    assert p.index_bits(p.add_index(np.arange(ROWS) % 50, 50)) == 32
    assert p.coded_values(p.add_const((np.arange(ROWS) % 3).astype(float))) == 0


def test_columns_of_at_most_256_bit_patterns_are_coded():
    rng = np.random.default_rng(0)
    p = _program()
    table = rng.normal(size=256)
    assert p.coded_values(_column(p, table[rng.integers(0, 256, ROWS)])) == 256
    assert p.coded_values(_column(p, rng.normal(size=ROWS))) == 0          # continuous
    over = np.concatenate([np.arange(257.0), np.zeros(ROWS)])
    assert p.coded_values(_column(p, over)) == 0                            # 257 values
    signed = np.where(np.arange(ROWS) % 2 == 0, 0.0, -0.0)                    # two bit patterns
    assert p.coded_values(_column(p, signed)) == 2
    special = np.tile([np.nan, np.inf, -np.inf, 1.0], ROWS // 4)
    assert p.coded_values(_column(p, special)) == 4


def test_a_loaded_program_has_its_narrow_copies_again():
    p = _program()
    i = _gather(p, np.arange(ROWS) % 50, 50)
    s = _column(p, (np.arange(ROWS) % 3).astype(float))
    q = C.Program.from_bytes(p.to_bytes())
    assert q.index_bits(i) == 8 and q.coded_values(s) == 3
