"""initify: make containers start and stop correctly."""

__version__ = "0.1.0"
