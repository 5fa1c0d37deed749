"""Compose files: reading services and what each runs as PID 1 and how it is stopped."""
