"""What initify knows about the world: the knowledge base (inits, shells, daemons, bases), signals, durations."""
