"""Rule modules, one per rule, grouped in one subpackage per kind of input.

Each subpackage's `__init__` names the TARGETS its rules take (the subjects `engine.run_rules`
passes), so a run over Dockerfiles imports only the Dockerfile rules. A new rule is a module in
the right subpackage (plus its doc in rules/ and its test file); the engine finds it by listing.
"""
