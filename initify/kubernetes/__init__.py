"""Kubernetes manifests: reading pod specs, what each container runs, pairing with Dockerfiles, YAML splices."""
