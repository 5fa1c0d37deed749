"""Rules on the image a Dockerfile builds: they receive `initify.facts.ImageFacts`."""

TARGETS = ("dockerfile",)
