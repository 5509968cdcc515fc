#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# deploy_compose: docker/compose.yaml parses and validates with Compose's own schema:
# `docker compose config` where the compose plugin is installed, else Debian's
# docker-compose (1.29) `docker-compose config`; neither needs a Docker engine. Then
# check_compose.py (addresses, ports, mounts, key agree across compose.yaml,
# compose/zx.yaml, compose/knot.conf, compose/tsig.conf) and the example primary's own
# checkers: knotc conf-check, named-checkzone, named-checkconf for the key file.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/deploy/lib.sh
. "$here/lib.sh"

py=$(zx_python) || exit $?
d=$ZX_SRC/docker
if docker compose version >/dev/null 2>&1; then
	run "docker compose config (compose plugin)" docker compose -f "$d/compose.yaml" config -q
else
	dc=$(need docker-compose "no docker compose plugin either") || exit $?
	run "docker-compose config ($("$dc" version --short 2>/dev/null))" \
		"$dc" -f "$d/compose.yaml" config -q
fi
run "compose files agree with each other" "$py" "$here/check_compose.py" "$ZX_SRC"

knotc=$(need knotc "the example primary's config check") || exit $?
checkzone=$(need named-checkzone) || exit $?
checkconf=$(need named-checkconf) || exit $?
run "knotc conf-check compose/knot.conf" "$knotc" -c "$d/compose/knot.conf" conf-check
run "named-checkzone example.test" "$checkzone" -q example.test "$d/compose/zones/example.test.zone"
run "named-checkconf compose/tsig.conf" "$checkconf" "$d/compose/tsig.conf"
finish
