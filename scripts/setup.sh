#!/usr/bin/env bash
# Set-up for a fresh machine, used by both README commands and by .ci/run.
#   bash scripts/setup.sh            -> .venv with initify and its test/bench tools
#   bash scripts/setup.sh --system   -> also the Debian packages the real-container tests use
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "--system" ] && command -v apt-get >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # buildah/runc/podman/debootstrap: real image builds and containers; tini/dumb-init: init benchmark;
    # docker-registry/skopeo: a real registry for the image-facts tests; busybox-static: a BusyBox image
    # and BusyBox's sh and init measured as PID 1.
    apt-get install -y -qq --no-install-recommends \
        buildah runc podman uidmap debootstrap tini dumb-init git ca-certificates \
        docker-registry skopeo busybox-static file >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check ".[test,bench,lsp]"
