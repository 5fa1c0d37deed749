"""What the editor server (`initify lsp`) needs besides the protocol: lint a buffer's text the
way `initify lint` lints the file, and turn findings into diagnostics, edits and hovers. No pygls
here: the protocol layer is `initify/commands/lsp.py`, so this stays importable and testable
without the optional extra."""
