#!/bin/bash
# SPDX-License-Identifier: MIT
# zx-entrypoint: the image's ENTRYPOINT. The first argument picks the program:
#   notifyd | xfrd | xfrctl [args...]  ->  exec /usr/bin/PROG -c "$ZX_CONFIG" [args...]
#   PROG --version | --help | -c FILE   ->  exec /usr/bin/PROG as given (no -c added)
#   anything else                       ->  exec'd as is (e.g. bash, for debugging)
# exec keeps the daemon as the container's main process, so SIGTERM (clean shutdown) and
# SIGHUP (reload) from `docker kill -s HUP` or the kubelet reach it directly.
# Environment: ZX_CONFIG (default /etc/zx/zx.yaml), ZX_BINDIR (default /usr/bin; the
# deployment tests point it at a build tree to run these same commands outside a container).
set -euo pipefail

config=${ZX_CONFIG:-/etc/zx/zx.yaml}
bindir=${ZX_BINDIR:-/usr/bin}
prog=${1:-notifyd}
if [ $# -gt 0 ]; then
	shift
fi

case "$prog" in
notifyd | xfrd | xfrctl) ;;
*) exec "$prog" "$@" ;;
esac

case "${1-}" in
--version | --help | -h | -c | --config) exec "$bindir/$prog" "$@" ;;
esac

if [ ! -r "$config" ]; then
	printf 'level=error prog=zx-entrypoint event=no_config path=%s what="mount the config file there or set ZX_CONFIG"\n' \
		"$config" >&2
	exit 78 # EX_CONFIG
fi
exec "$bindir/$prog" -c "$config" "$@"
