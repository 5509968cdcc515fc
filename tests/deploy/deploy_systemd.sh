#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# deploy_systemd: docker/systemd/*.service pass `systemd-analyze verify` with no warning
# at all (verify exits 0 on unknown keys, so any output fails the check), and
# `systemd-analyze security --offline=yes` rates both at most 2.5 ("OK"); zx.sysusers
# passes `systemd-sysusers --dry-run` into an empty root.
# verify insists that ExecStart's binary exists. The units name /usr/bin/notifyd and
# /usr/bin/xfrd (where the image and a package put them), which a build machine does not
# have, so the units are verified as copies whose ExecStart points at the binaries built
# in this tree (arguments 1 and 2); nothing else in the copies changes.
# Usage: deploy_systemd.sh NOTIFYD_BINARY XFRD_BINARY
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/deploy/lib.sh
. "$here/lib.sh"

sa=$(need systemd-analyze "Debian package systemd") || exit $?
sd=$ZX_SRC/docker/systemd
declare -A bin=([notifyd]=${1:?notifyd binary} [xfrd]=${2:?xfrd binary})
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

units=()
for prog in notifyd xfrd; do
	u=$sd/zx-$prog.service
	run "zx-$prog.service: ExecStart=/usr/bin/$prog -c /etc/zx/zx.yaml" \
		grep -qx "ExecStart=/usr/bin/$prog -c /etc/zx/zx.yaml" "$u"
	sed "s#^ExecStart=/usr/bin/$prog #ExecStart=${bin[$prog]} #" "$u" >"$tmp/zx-$prog.service"
	units+=("$tmp/zx-$prog.service")
done

verify()
{
	local out
	out=$("$sa" verify "$@" 2>&1)
	local rc=$?
	printf '%s' "$out"
	[ "$rc" -eq 0 ] && [ -z "$out" ]
}
run "systemd-analyze verify (no output allowed)" verify "${units[@]}"
for u in "${units[@]}"; do
	out=$("$sa" security --offline=yes --threshold=25 --no-pager "$u" 2>&1)
	rc=$?
	level=$(grep -o 'Overall exposure level.*' <<<"$out")
	run "systemd-analyze security --offline=yes --threshold=25: ${level:-no level}" \
		test "$rc" -eq 0 -a -n "$level"
done

# The contract written in docker/README.md: Type=exec (no sd_notify), notifyd reloads by
# SIGHUP (xfrd cannot reload yet: no ExecReload), the capability for port 53 only where
# it is needed, LMDB in the StateDirectory.
for prog in notifyd xfrd; do
	u=$sd/zx-$prog.service
	run "zx-$prog: Type=exec" grep -qx 'Type=exec' "$u"
	run "zx-$prog: ProtectSystem=strict" grep -qx 'ProtectSystem=strict' "$u"
done
# shellcheck disable=SC2016 # the literal $MAINPID of the unit file
run "zx-notifyd: ExecReload sends SIGHUP" grep -qx 'ExecReload=/bin/kill -HUP $MAINPID' \
	"$sd/zx-notifyd.service"
run "zx-xfrd: no ExecReload (no reload yet)" bash -c "! grep -q '^ExecReload=' '$sd/zx-xfrd.service'"
run "notifyd: AmbientCapabilities=CAP_NET_BIND_SERVICE" \
	grep -qx 'AmbientCapabilities=CAP_NET_BIND_SERVICE' "$sd/zx-notifyd.service"
run "xfrd: no ambient capabilities" grep -qx 'AmbientCapabilities=' "$sd/zx-xfrd.service"
run "xfrd: StateDirectory=zx" grep -qx 'StateDirectory=zx' "$sd/zx-xfrd.service"

sysusers()
{
	local out
	mkdir -p "$tmp/root"
	out=$(systemd-sysusers --root="$tmp/root" --dry-run "$sd/zx.sysusers" 2>&1)
	local rc=$?
	printf '%s' "$out"
	[ "$rc" -eq 0 ] && grep -q "Creating user 'zx'" <<<"$out" && ! grep -qiE 'fail|ignor' <<<"$out"
}
if command -v systemd-sysusers >/dev/null; then
	run "zx.sysusers: systemd-sysusers --dry-run creates user zx" sysusers
fi
finish
