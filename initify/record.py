"""`Record`: the base of initify's plain data classes.

initify does not use `dataclasses` on the lint path: `@dataclass` compiles an `__init__`, a
`__repr__` and an `__eq__` for every class when its module is imported, about 0.3 ms a class,
and `initify lint` on one file (a pre-commit hook, run on every commit) loads some thirty of them.
A data class here lists its fields in `__slots__` and writes its `__init__` by hand; `Record`
gives it field-wise equality and a readable repr, the two things the dataclass gave for free.
Immutable values (hashable, never changed after creation) are `typing.NamedTuple`s instead.
"""

from __future__ import annotations

from typing import List, Tuple


class Record:
    """Field-wise `==` and a dataclass-like repr for a class whose fields are its `__slots__`.

    Records are mutable, so, like a dataclass with `eq=True`, they are not hashable.
    """

    __slots__: Tuple[str, ...] = ()
    __hash__ = None  # type: ignore[assignment]

    def _fields(self) -> List[str]:
        """Field names, a base class's first (a subclass's `__slots__` lists only its own)."""
        names: List[str] = []
        for cls in reversed(type(self).__mro__):
            names.extend(cls.__dict__.get("__slots__", ()))
        return names

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in self._fields())

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields())
        return f"{type(self).__name__}({fields})"
