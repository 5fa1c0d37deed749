"""Rules on Kubernetes pod specs and their containers: `initify.kubernetes.pods.ContainerFacts` / `PodFacts`."""

TARGETS = ("container", "pod")
