#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# deploy_entrypoint: the logic of the image's start-up scripts, outside a container, in a
# few seconds (the image itself is built and run by deploy_image_build and
# deploy_image_start). Takes the ENTRYPOINT, CMD and HEALTHCHECK of docker/Dockerfile,
# finds the files its COPY lines put there (docker/entrypoint.sh, docker/healthcheck.sh)
# and runs them with ZX_BINDIR pointing at the programs built in this tree, or at stubs:
#   - `notifyd|xfrd|xfrctl --version` are passed through to the real binaries;
#   - the default CMD and `xfrctl zones` run PROG -c $ZX_CONFIG ... (seen through stubs);
#   - the program replaces the script (exec: same PID, so it gets SIGTERM/SIGHUP);
#   - a missing config stops with exit 78 and a key=value line;
#   - the health check passes on 200 from GET /health and fails on 503, 404 or no
#     listener (a local HTTP server answers what each case needs).
# Usage: deploy_entrypoint.sh NOTIFYD XFRD XFRCTL (the built binaries)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/deploy/lib.sh
. "$here/lib.sh"

py=$(zx_python) || exit $?
df=$ZX_SRC/docker/Dockerfile
tmp=$(mktemp -d)
server=""
cleanup()
{
	if [ -n "$server" ]; then
		kill "$server" 2>/dev/null
		wait "$server" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

# The last stage's ENTRYPOINT/CMD/HEALTHCHECK exec arrays and the COPY sources behind them.
"$py" - "$df" >"$tmp/image.env" <<'PY' || { bad "cannot read $df"; finish; exit 1; }
import json, re, shlex, sys
text = re.sub(r"\\\n", " ", open(sys.argv[1]).read())
last = text.split("\nFROM ")[-1]
def arr(ins):
    m = re.search(r"^%s\s+(?:.*?CMD\s+)?(\[.*\])\s*$" % ins, last, re.M)
    return json.loads(m.group(1))
copies = {}
for m in re.finditer(r"^COPY\s+(?:--chmod=\S+\s+)?(docker/\S+)\s+(\S+)\s*$", last, re.M):
    copies[m.group(2)] = m.group(1)
ep, cmd, hc = arr("ENTRYPOINT"), arr("CMD"), arr("HEALTHCHECK")
print("entry_src=%s" % shlex.quote(copies[ep[0]]))
print("health_src=%s" % shlex.quote(copies[hc[0]]))
print("cmd=(%s)" % " ".join(shlex.quote(c) for c in cmd))
cfg = re.search(r"^ENV\s+ZX_CONFIG=(\S+)", last, re.M)
print("image_config=%s" % shlex.quote(cfg.group(1) if cfg else ""))
PY
cmd=()
# shellcheck disable=SC1091
. "$tmp/image.env"
entry=$ZX_SRC/${entry_src:?}
health=$ZX_SRC/${health_src:?}
run "ENTRYPOINT is $entry_src, HEALTHCHECK is $health_src, CMD is ${cmd[*]}" test -x "$entry"
run "image sets ZX_CONFIG=/etc/zx/zx.yaml" test "${image_config:-}" = /etc/zx/zx.yaml

# Real binaries: --version, exactly as `docker run IMAGE PROG --version` runs them.
mkdir -p "$tmp/bin" "$tmp/stub"
ln -s "${1:?notifyd binary}" "$tmp/bin/notifyd"
ln -s "${2:?xfrd binary}" "$tmp/bin/xfrd"
ln -s "${3:?xfrctl binary}" "$tmp/bin/xfrctl"
for prog in notifyd xfrd xfrctl; do
	out=$(ZX_BINDIR=$tmp/bin ZX_CONFIG=$tmp/none.yaml "$entry" "$prog" --version 2>&1)
	run "entrypoint $prog --version -> '$out'" grep -q "^$prog [0-9]" <<<"$out"
done

# Stubs that print their arguments: what the entrypoint passes on.
for prog in notifyd xfrd xfrctl; do
	printf '#!/bin/sh\necho "%s $*"\n' "$prog" >"$tmp/stub/$prog"
	chmod +x "$tmp/stub/$prog"
done
: >"$tmp/zx.yaml"
stub() { ZX_BINDIR=$tmp/stub ZX_CONFIG=$tmp/zx.yaml "$entry" "$@" 2>&1; }
run "default CMD runs notifyd -c \$ZX_CONFIG" test "$(stub "${cmd[@]}")" = "notifyd -c $tmp/zx.yaml"
run "no arguments runs notifyd -c \$ZX_CONFIG" test "$(stub)" = "notifyd -c $tmp/zx.yaml"
run "xfrd -> xfrd -c \$ZX_CONFIG" test "$(stub xfrd)" = "xfrd -c $tmp/zx.yaml"
run "xfrctl zones -> xfrctl -c \$ZX_CONFIG zones" \
	test "$(stub xfrctl zones)" = "xfrctl -c $tmp/zx.yaml zones"
run "an explicit -c is kept" test "$(stub xfrd -c /x.yaml)" = "xfrd -c /x.yaml"
run "other commands run as given" test "$(stub echo hello)" = "hello"
# exec, not a child: the program keeps the entrypoint's PID, so the SIGTERM and SIGHUP that
# Docker and the kubelet send to the container's main process reach the daemon itself.
mkdir -p "$tmp/pid"
printf '#!/bin/sh\necho "$$" >"%s"\n' "$tmp/pid/seen" >"$tmp/pid/xfrd"
chmod +x "$tmp/pid/xfrd"
ZX_BINDIR=$tmp/pid ZX_CONFIG=$tmp/zx.yaml "$entry" xfrd &
pid=$!
wait "$pid"
run "the program replaces the entrypoint (same PID $pid, gets the signals)" \
	test "$(cat "$tmp/pid/seen" 2>/dev/null)" = "$pid"
out=$(ZX_BINDIR=$tmp/stub ZX_CONFIG=$tmp/missing.yaml "$entry" xfrd 2>&1)
rc=$?
run "missing config: exit 78 with event=no_config (got $rc)" \
	test "$rc" = 78 -a -n "$(grep 'level=error .*event=no_config' <<<"$out")"

# Health check against a small HTTP server on a loopback port the kernel picks.
cat >"$tmp/httpd_stub.py" <<'PY'
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        code = int(open(sys.argv[1]).read()) if self.path == "/health" else 404
        self.send_response(code)
        self.end_headers()
        self.wfile.write(b"status\n")
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
open(sys.argv[2], "w").write(str(s.server_address[1]))
s.serve_forever()
PY
echo 200 >"$tmp/code"
"$py" "$tmp/httpd_stub.py" "$tmp/code" "$tmp/port" &
server=$!
for _ in $(seq 50); do
	[ -s "$tmp/port" ] && break
	sleep 0.1
done
port=$(cat "$tmp/port" 2>/dev/null)
run "test HTTP server listening (port ${port:-none})" test -n "$port"
run "healthcheck: 200 on /health -> healthy" env ZX_HEALTH_PORT="$port" "$health"
echo 503 >"$tmp/code"
# shellcheck disable=SC2016 # $1 and $2 are bash -c's own arguments
run "healthcheck: 503 -> unhealthy" bash -c '! env ZX_HEALTH_PORT="$1" "$2"' _ "$port" "$health"
echo 200 >"$tmp/code"
# shellcheck disable=SC2016
run "healthcheck: other path (404) -> unhealthy" \
	bash -c '! env ZX_HEALTH_PORT="$1" ZX_HEALTH_PATH=/nope "$2"' _ "$port" "$health"
kill "$server" 2>/dev/null
wait "$server" 2>/dev/null
server=""
# shellcheck disable=SC2016
run "healthcheck: nothing listening -> unhealthy" \
	bash -c '! env ZX_HEALTH_PORT="$1" "$2"' _ "$port" "$health"
finish
