"""`python -m initify`: the same as the `initify` command."""

from initify.cli import main

main(prog_name="initify")
