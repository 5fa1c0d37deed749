"""Rule modules, one per rule; the engine (initify/engine.py) lists this package to find them."""
