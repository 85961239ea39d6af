"""Pickling for classes whose constructor does more than build the object.

``bb.Normal("mu", 0, 1)`` registers a variable in the model of the enclosing ``with`` block, and
``Interval(lower, upper)`` returns a ParamBounds when a bound is a parameter: pickle's default way back
(calling ``cls.__new__(cls)``) fails on both. Such classes pickle as their ``__dict__`` and come back as
a blank instance given that state, which is all a model in another process needs.
"""
from __future__ import annotations


def blank(cls):
    """An instance of ``cls`` made without calling its ``__new__`` or ``__init__``."""
    return object.__new__(cls)


class PicklesAsState:
    """Pickled as ``(blank, (type,), __dict__)``: restored without calling the constructor."""

    def __reduce__(self):
        return (blank, (type(self),), self.__dict__)
