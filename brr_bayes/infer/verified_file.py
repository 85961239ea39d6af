"""Files written atomically with a SHA-256 trailer, checked before any parser reads them.

Result.save/load and the per-chain checkpoints of cluster runs both use it: an interrupted write
leaves the previous file intact, and a truncated or bit-flipped file is named as such instead of
surfacing as an HDF5, JSON or pickle error.
"""
from __future__ import annotations

import hashlib
import os


class ResultFileError(ValueError):
    """A saved result that cannot be read back intact (truncated, bit-flipped, or not a brr_bayes file)."""


_TRAILER = b"\nbrr_bayes-sha256:"   # + 64 hex digits + b"\n", appended after the payload bytes
_TRAILER_LEN = len(_TRAILER) + 65


def replace_atomically(path, write):
    """Write a file through ``write(tmp)`` to a temporary file beside ``path``, fsync it, then rename it
    over ``path``: an interrupted write leaves the previous file intact."""
    path = os.fspath(path)
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        write(tmp)
        with open(tmp, "ab") as f:
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_verified(path, write):
    """Write a file through ``write(tmp)``, append a SHA-256 of its bytes, fsync, then rename over ``path``.

    The checksum is checked before any parser sees the bytes (a bit-flipped HDF5 file can hang its
    reader); HDF5 ignores bytes past its end, so other netCDF readers still open the file. The rename
    is atomic: an interrupted save leaves the previous file intact.
    """
    def with_trailer(tmp):
        write(tmp)
        with open(tmp, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest().encode()
        with open(tmp, "ab") as f:
            f.write(_TRAILER + digest + b"\n")

    replace_atomically(path, with_trailer)


def verify(path, reader="Result.load", writer="Result.save"):
    """The file's bytes before its trailer; ResultFileError unless the trailer is their checksum."""
    with open(path, "rb") as f:
        raw = f.read()
    tail = raw[-_TRAILER_LEN:]
    if len(raw) < _TRAILER_LEN or not tail.startswith(_TRAILER) or not tail.endswith(b"\n"):
        raise ResultFileError(f"{reader}: {path} is truncated or corrupted (it does not end with the checksum "
                              f"{writer} writes), or was not saved by {writer}; use another copy or sample again "
                              "(a file written before saves carried a checksum, by an early development build, loads unchecked with "
                              "verify=False)")
    payload = raw[:-_TRAILER_LEN]
    if hashlib.sha256(payload).hexdigest().encode() != tail[len(_TRAILER):-1]:
        raise ResultFileError(f"{reader}: {path} is corrupted (its bytes do not match the checksum written when "
                              "it was saved); use another copy or sample again")
    return payload
