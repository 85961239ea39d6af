"""A compiled Program survives bytes and pickling exactly, and bad bytes are refused, never crash.

The loader replays construction through the validating builders, so these tests also doctor bytes
past the checksum (recomputing it) to show that a well-formed but invalid record is caught by the
same checks a freshly built program passes.
"""
import pickle
import struct

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import brr_bayes as bb
from brr_bayes import _backend
from workloads import data, models

C = _backend.core()


def _fnv1a(b):
    h = 1469598103934665603
    for byte in b:
        h = ((h ^ byte) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return h


def _reseal(body):
    """Bytes with a fresh checksum: what a well-formed writer of a wrong record would produce."""
    return body + struct.pack("<Q", _fnv1a(body))


WORKLOADS = {
    "w1": lambda: models.eight_schools(data.make_w1()),
    "w2": lambda: models.mrp_logit(data.make_w2(3_000)),
    "w3": lambda: models.bym2(data.make_w3()),
    "w4": lambda: models.poll_rw(data.make_w4()),
    "w5": lambda: models.radon(data.make_w5()),
}


@pytest.fixture(scope="module", params=sorted(WORKLOADS))
def program(request):
    return WORKLOADS[request.param]().compiled.program


def test_round_trip_is_the_same_program(program):
    raw = program.to_bytes()
    for copy in (C.Program.from_bytes(raw), pickle.loads(pickle.dumps(program))):
        assert copy.dim == program.dim and copy.num_slots == program.num_slots
        assert copy.to_bytes() == raw
        rng = np.random.default_rng(4)
        for _ in range(3):
            x = rng.normal(scale=0.5, size=program.dim)
            lp, g = program.logp_and_grad(x)
            lp2, g2 = copy.logp_and_grad(x)
            assert lp2 == lp and np.array_equal(g2, g)   # bit for bit


def test_every_slot_reads_the_same(program):
    # views alias their parents' values and adjoints: a replay in another order would misplace them
    Q = pickle.loads(pickle.dumps(program))
    pts = np.random.default_rng(0).normal(scale=0.5, size=(2, program.dim))
    slots = list(range(program.num_slots))
    for a, b in zip(program.eval_slots(pts, slots), Q.eval_slots(pts, slots)):
        assert np.array_equal(a, b)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_every_flipped_or_cut_byte_is_refused(data_):
    raw = WORKLOADS["w1"]().compiled.program.to_bytes()
    pos = data_.draw(st.integers(0, len(raw) - 1))
    flipped = bytearray(raw)
    flipped[pos] ^= 1 << data_.draw(st.integers(0, 7))
    with pytest.raises(ValueError, match="Program bytes|not a serialised"):
        C.Program.from_bytes(bytes(flipped))
    with pytest.raises(ValueError, match="Program bytes|not a serialised"):
        C.Program.from_bytes(raw[:pos])


def test_other_format_version_is_refused_by_name():
    raw = WORKLOADS["w1"]().compiled.program.to_bytes()
    body = bytearray(raw[:-8])
    body[8:12] = struct.pack("<I", 99)
    with pytest.raises(ValueError, match=r"format 99 but this brr_bayes reads format \d+"):
        C.Program.from_bytes(_reseal(bytes(body)))


def test_valid_checksum_over_an_invalid_record_fails_validation():
    # an index value moved out of its bound, checksum recomputed: add_index's own check refuses it
    with bb.Model() as m:
        z = bb.Normal("z", 0, 1, shape=3)
        bb.Normal("y", z[np.array([0, 1, 2, 2])], 1, observed=np.zeros(4))
    raw = m.compiled.program.to_bytes()
    body = bytearray(raw[:-8])
    needle = struct.pack("<4i", 0, 1, 2, 2)
    at = bytes(body).find(needle)
    assert at > 0
    body[at + 12:at + 16] = struct.pack("<i", 7)
    with pytest.raises(ValueError, match="outside"):
        C.Program.from_bytes(_reseal(bytes(body)))
    assert len(C.Program.from_bytes(raw).to_bytes()) == len(raw)


def test_not_bytes_and_foreign_bytes():
    with pytest.raises(TypeError, match="from_bytes takes bytes"):
        C.Program.from_bytes("BRRPROG")
    with pytest.raises(ValueError, match="not a serialised brr_bayes Program"):
        C.Program.from_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 64)


def test_a_chain_alone_draws_what_it_draws_beside_the_others():
    # chain_ids: chain 2 sampled alone (as one cluster task samples it) equals chain 2 of a 4-chain run
    P = WORKLOADS["w1"]().compiled.program
    cfg = dict(draws=50, tune=50, chains=4, threads=2, seed=9)
    run = C.start_sampling(P, cfg, [], [])
    run.join()
    alone = C.start_sampling(pickle.loads(pickle.dumps(P)), dict(cfg, chains=1, threads=1, chain_ids=[2]), [], [])
    alone.join()
    assert np.array_equal(alone.trace(0)["draws"], run.trace(2)["draws"])
    assert not np.array_equal(alone.trace(0)["draws"], run.trace(1)["draws"])
    with pytest.raises(ValueError, match="chain_ids must give one RNG stream per chain"):
        C.start_sampling(P, dict(cfg, chain_ids=[0]), [], [])


def test_reading_draws_runs_only_what_the_outputs_need(program):
    # the executor's read: constrained values and deterministics without the likelihood
    from brr_bayes import ops
    with bb.Model() as m:
        mu = bb.Normal("mu", 0, 5)
        tau = bb.HalfCauchy("tau", 5)
        z = bb.Normal("z", 0, 1, shape=8)
        bb.Deterministic("theta", mu + tau * z)
        bb.Normal("y", mu + tau * z, 10.0, observed=np.arange(8.0))
    comp = m.compiled
    P = comp.program
    slots = [s for _, _, s in comp.outputs]
    needed = [P.op_codes()[k] for k in P.ops_for(slots)]
    assert needed and all(c < ops.NORMAL for c in needed)               # no density op is run
    assert len(needed) < len(P.op_codes())
    X = np.random.default_rng(1).normal(size=(5, P.dim))
    got = comp.constrain_many(X)
    np.testing.assert_allclose(got["theta"], got["mu"][:, None] + got["tau"][:, None] * got["z"], rtol=1e-14)
    np.testing.assert_array_equal(got["tau"], np.exp(X[:, 1]))
    # many rows run in blocks on threads: each row equals that row evaluated alone
    many = np.random.default_rng(3).normal(size=(3001, P.dim))
    together = comp.constrain_many(many)
    for r in (0, 255, 256, 1999, 3000):
        alone = comp.constrain_many(many[r:r + 1])
        for k in together:
            np.testing.assert_array_equal(together[k][r], alone[k][0])
    # on every workload: all outputs read this way equal the same slots after a full evaluation
    out_slots = list(range(1, program.num_slots))
    pts = np.random.default_rng(2).normal(scale=0.3, size=(2, program.dim))
    for s in out_slots[:: max(1, len(out_slots) // 40)]:
        assert program.ops_for([s]) == sorted(program.ops_for([s]))
    full = program.eval_slots(pts, out_slots)    # every slot: the whole forward pass is needed
    pruned = [program.eval_slots(pts, [s])[0] for s in out_slots[:: max(1, len(out_slots) // 40)]]
    for a, b in zip(full[:: max(1, len(out_slots) // 40)], pruned):
        np.testing.assert_array_equal(a, b)


def test_one_op_table_for_cpp_and_python():
    # both sides come from csrc/ir/ops.def: the core's compiled table equals Python's generated one
    from brr_bayes import ops
    assert C.op_table() == ops.TABLE and len(ops.TABLE) == 74
    assert len(set(ops.TABLE.values())) == len(ops.TABLE)          # codes are unique
    assert ops.name(ops.GLM) == "glm" and ops.GLM == 495            # codes are stable: saved programs hold them
    P = C.Program(3)
    with pytest.raises(ValueError, match=r"op normal \(400\): expected 3 inputs"):
        P.add_op(ops.NORMAL, [0], -1)


def test_one_table_of_glm_families_and_term_kinds():
    # csrc/ir/glm.def: the core's named constants (read back through the binding) equal Python's generated ones
    from brr_bayes import ops
    codes = C.glm_codes()
    assert codes == {k: getattr(ops, k) for k in codes} and len(codes) == 9
    assert ops.GLM_FAMILY_NAMES[ops.GLM_NEGBIN] == "negative-binomial-log" and ops.TERM_SCALED == 3
    P = C.Program(3)
    y = P.add_const(np.zeros(4))
    with pytest.raises(ValueError, match="glm: unknown family 7; the families are listed in csrc/ir/glm.def"):
        P.add_op(ops.GLM, [0, y], -1, ip=[7, 1, -1, -1, ops.TERM_SCALAR, 0, -1, -1])


def test_every_op_signature_is_enforced_by_the_core():
    # ops.def states each op's inputs, index arrays, integer parameters and output; the core checks them
    # for every code before the op's shape rule, and names the op in the message.
    from brr_bayes import ops
    assert C.op_signatures() == ops.SIGNATURES and set(ops.SIGNATURES) == set(ops.TABLE.values())
    for code, (in_min, in_max, n_idx, n_ip, has_out) in ops.SIGNATURES.items():
        label = rf"op {ops.name(code)} \({code}\)"

        def attempt(what, n_in=in_min, idx=max(n_idx, 0), ip=n_ip, out=has_out):
            P = C.Program(2)
            ix = P.add_index(np.array([0, 1]), 2)
            s = P.add_slot(2)
            with pytest.raises(ValueError, match=label + ": " + what):   # the signature's message, not a size rule's
                P.add_op(code, [0] * n_in, s if out else -1, [ix] * idx, [0] * ip, [])

        if in_min > 0:
            attempt(r"expected .* inputs", n_in=in_min - 1)
        if in_max >= 0:
            attempt(r"expected .* inputs", n_in=in_max + 1)
        if n_idx >= 0:
            attempt(f"expected {n_idx} index arrays", idx=n_idx + 1)
        if n_ip > 0:
            attempt(f"expected {n_ip} integer parameters", ip=n_ip - 1)
        attempt("needs an output slot" if has_out else "takes no output slot", out=1 - has_out)
    with pytest.raises(ValueError, match="unknown op code 7777"):
        C.Program(1).add_op(7777, [0], -1, [], [], [])
