"""Real images and containers: buildah, runc and podman."""
