"""One module per command (lint, fix, manifest, build, verify), each calling the layers below."""
