#!/usr/bin/env bash
# The dependency rules of README.md's layout table, checked: every #include of ours in
# a folder must name a folder that folder may use. Prints each violation as
# file:line: the include, and what the folder may use. Exit 1 on any.
set -u
src=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$src" || exit 2

# folder -> the folders its includes may name (space-separated; "common" means the
# files of common/ itself, "common/*" every sub-folder of common/)
declare -A may=(
	[common]="common"
	[common/tsig]="common common/tsig"
	[common/cfg]="common common/tsig common/cfg"
	[common/store]="common common/store"
	[common/kafka]="common common/cfg common/kafka"
	[common/ops]="common common/ops"
	[proto]="common common/* proto"
	[notifyd]="common common/tsig common/cfg common/kafka common/ops proto notifyd"
	[xfrd]="common common/* xfrd/service xfrd/xfr xfrd/zone"
	[xfrd/zone]="common common/cfg common/store xfrd/zone"
	[xfrd/xfr]="common common/* proto xfrd/zone xfrd/xfr"
	[xfrd/kafka]="common common/* proto xfrd/zone xfrd/xfr xfrd/kafka"
	[xfrd/serve]="common common/* proto xfrd/serve"
	[xfrd/notify]="common common/* xfrd/zone xfrd/notify"
	[xfrd/api]="common common/* proto xfrd/zone xfrd/api"
	[xfrd/service]="common common/* proto xfrd/zone xfrd/xfr xfrd/kafka xfrd/serve xfrd/notify xfrd/api xfrd/service"
	[xfrd/tools]="common common/* proto xfrd/tools"
)

allowed() { # folder, included folder
	local f
	for f in ${may[$1]}; do
		case "$f" in
		*/\*) [[ "$2" == "${f%/\*}/"* ]] && return 0 ;;
		*) [ "$2" = "$f" ] && return 0 ;;
		esac
	done
	return 1
}

bad=0
while IFS= read -r file; do
	dir=$(dirname "$file")
	if [ -z "${may[$dir]+x}" ]; then
		echo "$file: folder $dir is not in the layout table (tests/unit/check_layout.sh, README.md)"
		bad=1
		continue
	fi
	while IFS=: read -r line inc; do
		inc=${inc#*\"}
		inc=${inc%%\"*}
		if [[ "$inc" != */* ]]; then
			echo "$file:$line: #include \"$inc\": includes name the folder (\"common/x.h\")"
			bad=1
			continue
		fi
		idir=$(dirname "$inc")
		if ! allowed "$dir" "$idir"; then
			echo "$file:$line: #include \"$inc\": $dir/ may use ${may[$dir]}"
			bad=1
		fi
	done < <(grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]+"' "$file" | sed 's/^\([0-9]*\):/\1:/')
done < <(git ls-files 'common/*.[ch]' 'proto/*.[ch]' 'notifyd/*.[ch]' 'xfrd/*.[ch]' 2>/dev/null ||
	find common proto notifyd xfrd -name '*.[ch]')

# link targets match the folders: no program of notifyd/ links the store
if grep -nE 'common_store' notifyd/CMakeLists.txt >/dev/null; then
	echo "notifyd/CMakeLists.txt: notifyd links common_store (the LMDB store)"
	bad=1
fi
if [ $bad -eq 0 ]; then
	echo "layout: ok"
fi
exit $bad
