"""Rules on the image a Dockerfile builds: they receive `initify.dockerfile.facts.ImageFacts`."""

TARGETS = ("dockerfile",)
