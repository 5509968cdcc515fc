#!/usr/bin/env bash
# The dependency rule, checked: common <- proto <- {notifyd, xfrd}.
# common/ includes nothing of ours outside common/; proto/ only common/ and proto/;
# notifyd/ and xfrd/ never include each other. Prints each violation as file:line.
set -u
src=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$src" || exit 2
bad=0
check() { # folder, regex of forbidden include folders
	local out
	out=$(grep -nE "^[[:space:]]*#[[:space:]]*include[[:space:]]+\"($2)/" -r "$1" --include='*.c' --include='*.h' || true)
	if [ -n "$out" ]; then
		printf '%s\n' "$out" | sed "s/\$/   <- $1\/ may not include $2\//"
		bad=1
	fi
}
check common 'proto|notifyd|xfrd|tests'
check proto 'notifyd|xfrd|tests'
check notifyd 'xfrd|tests'
check xfrd 'notifyd|tests'
# includes must name their folder: a bare "foo.h" of ours is ambiguous
out=$(grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]+"[^/"]+"' -r common proto notifyd xfrd --include='*.c' --include='*.h' || true)
if [ -n "$out" ]; then
	printf '%s   <- includes name the folder ("common/x.h")\n' "$out"
	bad=1
fi
if [ $bad -eq 0 ]; then
	echo "layout: ok"
fi
exit $bad
