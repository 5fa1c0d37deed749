"""`Record`: the base of initify's plain data classes.

initify does not use `dataclasses` on the lint path: `@dataclass` compiles an `__init__`, a
`__repr__` and an `__eq__` for every class when its module is imported, about 0.3 ms a class,
and `initify lint` on one file (a pre-commit hook, run on every commit) loads some thirty of them.
A data class here lists its fields in `__slots__` and writes its `__init__` by hand; `Record`
gives it field-wise equality and a readable repr, the two things the dataclass gave for free.
Immutable values (hashable, never changed after creation) are `typing.NamedTuple`s instead.
"""

from __future__ import annotations

from typing import Tuple


class Record:
    """Field-wise `==` and a dataclass-like repr for a class whose fields are its `__slots__`.

    Records are mutable, so, like a dataclass with `eq=True`, they are not hashable.
    """

    __slots__: Tuple[str, ...] = ()
    __hash__ = None  # type: ignore[assignment]
    _fields: Tuple[str, ...] = ()  # every field, a base class's first; set once per class below

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)  # type: ignore[arg-type]
        # A subclass's `__slots__` lists only its own fields: gather the bases' too, once.
        cls._fields = tuple(name for klass in reversed(cls.__mro__) for name in klass.__dict__.get("__slots__", ()))

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in self._fields)

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{type(self).__name__}({fields})"
