"""Dockerfiles: the parser, its model, shell analysis, what the image runs as PID 1 (facts), rewrite helpers."""
