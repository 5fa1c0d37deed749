"""Rules on a file as a whole: they receive the `initify.errors.InputError` that stopped reading it."""

TARGETS = ("file",)
