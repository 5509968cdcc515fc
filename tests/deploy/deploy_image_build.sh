#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# deploy_image_build: the image's build stage, run outside a container (no Docker engine
# here). Copies the build context as docker/Dockerfile.dockerignore leaves it, runs the
# build stage's RUN line that follows `COPY . .` exactly as written, with /src, /build and
# /out moved into a temp dir, and then checks what the run stage would get: the three
# programs in out/usr/bin, `PROG --version` through the entrypoint, and the run stage's
# packages covering every library they load (without the sanitizer exception: this is
# the image's own non-sanitizer build). A full RelWithDebInfo build: label integration.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/deploy/lib.sh
. "$here/lib.sh"

py=$(zx_python) || exit $?
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

n=$("$py" "$here/docker_context.py" "$ZX_SRC" "$tmp/src")
run "build context: $n files after Dockerfile.dockerignore" test "${n:-0}" -gt 0

# The build stage's RUN after `COPY . .`, with the container paths moved into $tmp.
"$py" - "$ZX_SRC/docker/Dockerfile" "$tmp" >"$tmp/build.sh" <<'PY'
import re, sys
text = re.sub(r"\\\n\s*", " ", open(sys.argv[1]).read())
stage = text.split("\nFROM ")[1]
after = stage.split("\nCOPY . .", 1)[1]
cmd = re.search(r"^RUN (.*)$", after, re.M).group(1)
print(re.sub(r"(?<![\w.$])/(src|build|out)\b", sys.argv[2] + r"/\1", cmd))
PY
echo "    $(cat "$tmp/build.sh")"
run "build stage RUN (cmake configure, build notifyd xfrd xfrctl, install to /out)" \
	bash -e "$tmp/build.sh"

out=$tmp/out/usr/bin
for prog in notifyd xfrd xfrctl; do
	v=$(ZX_BINDIR=$out ZX_CONFIG=$tmp/none.yaml "$ZX_SRC/docker/entrypoint.sh" "$prog" --version 2>&1)
	run "image /usr/bin/$prog: entrypoint $prog --version -> '$v'" grep -q "^$prog [0-9]" <<<"$v"
done
run "run stage installs every library the image's binaries load" \
	env ZX_SANITIZE=OFF "$py" "$here/check_dockerfile.py" "$ZX_SRC" \
	"$out/notifyd" "$out/xfrd" "$out/xfrctl"
finish
