#!/bin/sh
set -e

# Prepare the worker's config directory from environment variables.
prepare_config() {
	config_dir="${WORKER_CONFIG_DIR:-/etc/worker}"
	mkdir -p "$config_dir"
	if [ ! -f "$config_dir/worker.ini" ]; then
		cat > "$config_dir/worker.ini" <<-INI
		[worker]
		queue = ${WORKER_QUEUE:-default}
		concurrency = ${WORKER_CONCURRENCY:-2}
		INI
		echo "entrypoint: wrote $config_dir/worker.ini"
	fi
}

# First argument looks like a flag: pass the flags to the worker.
if [ "${1#-}" != "$1" ]; then
	set -- python3 worker.py "$@"
fi

if [ "$1" = "python3" ]; then
	prepare_config
fi

# Runs the command as a child of this shell: the shell stays PID 1 and SIGTERM never reaches it.
"$@"
