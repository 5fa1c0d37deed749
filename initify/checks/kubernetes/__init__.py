"""Rules on Kubernetes pod specs and their containers: `initify.pods.ContainerFacts` / `PodFacts`."""

TARGETS = ("container", "pod")
