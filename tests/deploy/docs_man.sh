#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/deploy/docs_man.sh NOTIFYD XFRD XFRCTL ZX_FOLLOW -- the man pages in docker/man:
#   - each renders with groff (-man -ww: every warning) and man -l without a warning,
#     and has the sections a man page needs;
#   - every option a program's --help (or usage text) lists is in its page, and
#     xfrctl's commands too;
#   - every metric a page names exists in the sources, and every config key a page
#     names (kafka.requests-topic, xfrd.health.commit-stall...) is in
#     docker/zx.example.yaml, so the pages cannot drift from the programs.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/deploy/lib.sh
. "$here/lib.sh"
man_dir=$ZX_SRC/docker/man
groff=$(need groff "groff-base")
need man "man-db" >/dev/null
[ $# -eq 4 ] || { echo "usage: $0 NOTIFYD XFRD XFRCTL ZX_FOLLOW" >&2; exit 2; }
declare -A prog=([notifyd.8]=$1 [xfrd.8]=$2 [xfrctl.8]=$3 [zx-follow.1]=$4)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# text PAGE: plain text, one long line per paragraph, no hyphenation.
text()
{
	LC_ALL=C "$groff" -man -Tascii -rLL=2000n -rHY=0 -P-c -P-b -P-u "$1" 2>/dev/null
}

for page in notifyd.8 xfrd.8 xfrctl.8 zx-follow.1; do
	f=$man_dir/$page
	run "$page: groff -ww is silent" bash -c \
		"out=\$(LC_ALL=C.UTF-8 '$groff' -man -Tutf8 -ww -z '$f' 2>&1) && [ -z \"\$out\" ] || { echo \"\$out\"; exit 1; }"
	run "$page: man -l --warnings is silent" bash -c \
		"out=\$(MANWIDTH=80 man --warnings -l '$f' 2>&1 >/dev/null) && [ -z \"\$out\" ] || { echo \"\$out\"; exit 1; }"
	text "$f" >"$tmp/$page.txt"
	missing=""
	for s in NAME SYNOPSIS DESCRIPTION OPTIONS "EXIT STATUS" EXAMPLES "SEE ALSO"; do
		grep -q "^$s\$" "$tmp/$page.txt" || missing+=" $s"
	done
	run "$page: sections" test -z "$missing"
	[ -z "$missing" ] || echo "    missing:$missing"

	# Options from --help (xfrd and notifyd print their usage on an unknown option).
	"${prog[$page]}" --help 2>&1 | grep -v 'unrecognized option' >"$tmp/$page.help" || true
	opts=$(grep -oE '(^|[ [|,(])--?[A-Za-z][A-Za-z-]*' "$tmp/$page.help" | sed 's/^[ [|,(]//' |
		grep -v -- '--help$' | sort -u)
	[ -n "$opts" ] || bad "$page: no option found in ${prog[$page]} --help"
	absent=""
	for o in $opts --help; do
		grep -q -- "$o" "$tmp/$page.help" || continue
		grep -qE -- "(^|[^A-Za-z0-9-])$o([^A-Za-z0-9-]|\$)" "$tmp/$page.txt" || absent+=" $o"
	done
	run "$page: every option of --help ($(echo "$opts" | wc -w))" test -z "$absent"
	[ -z "$absent" ] || echo "    not in the page:$absent"
done

absent=""
for c in zones show dump refresh retransfer; do
	grep -q "^  $c" "$tmp/xfrctl.8.help" || absent+=" $c(help)"
	grep -qE "^ +$c( |$)" "$tmp/xfrctl.8.txt" || absent+=" $c"
done
run "xfrctl.8: every command" test -z "$absent"
[ -z "$absent" ] || echo "    missing:$absent"

# Metrics named in the pages exist in the sources.
absent=""
# shellcheck disable=SC2013 # one word per line
for m in $(cat "$tmp"/*.txt | grep -oE '\b(notifyd|xfrd)_[a-z_]+' | sort -u); do
	grep -rqF "\"$m" "$ZX_SRC/notifyd" "$ZX_SRC/xfrd" "$ZX_SRC/common" "$ZX_SRC/proto" ||
		absent+=" $m"
done
run "metrics named in the pages exist ($(cat "$tmp"/*.txt | grep -oE '\b(notifyd|xfrd)_[a-z_]+' | sort -u | wc -l))" test -z "$absent"
[ -z "$absent" ] || echo "    unknown:$absent"

# Config keys named in the pages are in the annotated example.
absent=""
# shellcheck disable=SC2013 # one word per line
for k in $(cat "$tmp"/*.txt | grep -oE '\b(kafka|xfrd|notifyd|proxy|log)\.[a-z][a-z.-]*[a-z]' | sort -u); do
	leaf=${k##*.}
	# (a key without a default, such as xfrd.api.tokens, is shown commented out: "# key:")
	grep -qE "^[[:space:]-]*(# *)?(\{ *)?$leaf:|[{,] *$leaf:" "$ZX_SRC/docker/zx.example.yaml" ||
		absent+=" $k"
done
run "config keys named in the pages are in zx.example.yaml" test -z "$absent"
[ -z "$absent" ] || echo "    unknown:$absent"
finish
