"""`python -m initify`: the same as the `initify` command."""

from initify.console import main

main()
