#!/bin/bash
# SPDX-License-Identifier: MIT
# zx-healthcheck: the image's HEALTHCHECK. GET /health on the running daemon's HTTP port
# and succeed only on status 200. Uses bash's /dev/tcp, so the image needs no curl.
# Port: ZX_HEALTH_PORT if set, else 9153 when notifyd runs and 9154 when xfrd runs (the
# container ports of notifyd.http / xfrd.http; set ZX_HEALTH_PORT if the config moves them).
# The HTTP listener must accept connections on 127.0.0.1 (0.0.0.0@PORT does).
# Environment: ZX_HEALTH_HOST (default 127.0.0.1), ZX_HEALTH_PATH (default /health).
set -uo pipefail

host=${ZX_HEALTH_HOST:-127.0.0.1}
path=${ZX_HEALTH_PATH:-/health}
port=${ZX_HEALTH_PORT:-}

if [ -z "$port" ]; then
	for comm in /proc/[0-9]*/comm; do
		case "$(cat "$comm" 2>/dev/null)" in
		notifyd) port=9153 ;;
		xfrd) port=9154 ;;
		*) continue ;;
		esac
		break
	done
fi
if [ -z "$port" ]; then
	echo "zx-healthcheck: neither notifyd nor xfrd is running" >&2
	exit 1
fi

if ! exec 3<>"/dev/tcp/$host/$port"; then
	echo "zx-healthcheck: cannot connect to $host:$port" >&2
	exit 1
fi
printf 'GET %s HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r\n' "$path" "$host" >&3
status=""
IFS=' ' read -r -t 4 _ status _ <&3 || true
# Read the rest until the server closes (HTTP/1.0), so it never writes into a reset socket.
n=0
while [ "$n" -lt 200 ] && IFS= read -r -t 2 _ <&3; do
	n=$((n + 1))
done
exec 3>&-
if [ "$status" = "200" ]; then
	exit 0
fi
echo "zx-healthcheck: GET http://$host:$port$path answered '${status:-nothing}'" >&2
exit 1
