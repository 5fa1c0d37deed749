"""Rules on the suppression comments themselves: they receive `initify.engine.SuppressionFacts`,
once every other rule has judged the file (the engine's `check_suppressions`)."""

TARGETS = ("suppressions",)
