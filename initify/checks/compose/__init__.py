"""Rules on compose services: `initify.services.ServiceFacts`."""

TARGETS = ("compose-service",)
