#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/deploy/programs_newline.sh NOTIFYD XFRD XFRCTL ZX_FOLLOW -- every program's output
# (standard output and error together) ends with a newline, on the paths an operator
# meets first: --version, --help, an unknown option, a configuration that is missing or
# bad, a bad command or argument. No network (each exits before it would connect).
set -uo pipefail
notifyd=$1 xfrd=$2 xfrctl=$3 follow=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf 'kafka: { brokers: 1 }\nbogus: 1\n' >"$tmp/bad.yaml"
fails=0 n=0
check()
{ # check CMD...: its output ends with a newline
	local out
	out=$(timeout 10 "$@" 2>&1; echo x)
	out=${out%x}
	n=$((n + 1))
	if [ -n "$out" ] && [ "${out: -1}" != $'\n' ]; then
		echo "FAIL: no newline at the end of: $* -> ...${out: -60}"
		fails=$((fails + 1))
	fi
}
for p in "$notifyd" "$xfrd" "$xfrctl" "$follow"; do
	check "$p" --version
	check "$p" --help
	check "$p" --no-such-option
done
for p in "$notifyd" "$xfrd"; do
	check "$p" -c "$tmp/none.yaml"
	check "$p" -c "$tmp/bad.yaml"
done
check "$xfrctl" -c "$tmp/none.yaml" zones
check "$xfrctl" -c "$tmp/bad.yaml" zones
check "$xfrctl" --store "$tmp/none" zones
check "$xfrctl" --json --store "$tmp/none" show a.test
check "$xfrctl" bogus
check "$xfrctl" zones a.test
check "$xfrctl" -c "$tmp/none.yaml" refresh --wait=x a.test
check "$xfrctl" -c "$tmp/none.yaml" purge a.test
check "$xfrctl" zone frob
check "$follow" -c "$tmp/none.yaml" -d "$tmp"
echo "$n invocations, $fails without a final newline"
[ "$fails" = 0 ]
