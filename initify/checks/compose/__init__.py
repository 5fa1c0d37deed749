"""Rules on compose services: `initify.compose.services.ServiceFacts`."""

TARGETS = ("compose-service",)
