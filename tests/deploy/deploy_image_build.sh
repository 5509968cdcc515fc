#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# deploy_image_build: docker/Dockerfile built for real, without a Docker engine, and
# looked at from inside (tests/deploy/image_lib.sh has the how and the caches):
#   - a Debian 12 base from mmdebstrap, imported under the tag the Dockerfile's FROM
#     names (--pull=never: no registry is asked for it); `podman build --isolation=chroot
#     --network=host -f docker/Dockerfile .`
#     from the repository root, as an operator runs it (build context as
#     docker/Dockerfile.dockerignore leaves it);
#   - the image's config: numeric non-root USER, ENTRYPOINT, CMD, ZX_CONFIG, WORKDIR,
#     the ports, the HEALTHCHECK;
#   - inside (`buildah run --isolation chroot`): notifyd, xfrd, xfrctl and zx-follow
#     print the same version as this tree's build, through the entrypoint; no program
#     misses a shared library; the man pages are docker/man's; no compiler or -dev
#     package; user zx 10001 owns /var/lib/zx; no config -> exit 78; the health check
#     runs there (bash /dev/tcp).
# The image is left tagged localhost/zx-test:<8 hex of the build dir> for
# deploy_image_start (its ID in $ZX_BUILD/deploy-image/image.env).
# Usage: deploy_image_build.sh NOTIFYD XFRD XFRCTL ZX_FOLLOW (this tree's programs)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/deploy/lib.sh
. "$here/lib.sh"
# shellcheck source=tests/deploy/image_lib.sh
. "$here/image_lib.sh"
[ $# -eq 4 ] || { echo "usage: $0 NOTIFYD XFRD XFRCTL ZX_FOLLOW" >&2; exit 2; }
declare -A host=([notifyd]=$1 [xfrd]=$2 [xfrctl]=$3 [zx-follow]=$4)
py=$(zx_python) || exit $?
img_init
t_start=$SECONDS
ctr=""
cleanup()
{
	[ -n "$ctr" ] && zxbuildah rm "$ctr" >/dev/null 2>&1
	return 0
}
trap cleanup EXIT
rm -f "$IMG_STATE/image.env"

img_lock
t0=$SECONDS
img_base || { bad "Debian 12 base image"; finish; exit 1; }
t_base=$((SECONDS - t0))

# build LOG ARGS...: podman build from the repository root, output in LOG.
build()
{
	local log=$1
	shift
	# --pull=never: the base is the imported one, never one from a registry.
	(cd "$ZX_SRC" && zxpodman build --pull=never --format docker --isolation=chroot \
		--network=host -f docker/Dockerfile "$@" .) >"$log" 2>&1
}
# The build stage under a tag of its own first: its apt-get layer then stays in the cache
# when the prune below removes the build layers of earlier sources.
t0=$SECONDS
if ! build "$IMG_STATE/build-stage.log" --target build -t "$IMG_BUILD_CACHE_TAG"; then
	tail -30 "$IMG_STATE/build-stage.log"
	bad "podman build --target build (log $IMG_STATE/build-stage.log)"
	finish
	exit 1
fi
t_stage=$((SECONDS - t0))
t0=$SECONDS
if ! build "$IMG_STATE/build.log" -t "$IMG_TAG" --iidfile "$IMG_STATE/image.id"; then
	tail -30 "$IMG_STATE/build.log"
	bad "podman build -f docker/Dockerfile . (log $IMG_STATE/build.log)"
	finish
	exit 1
fi
t_image=$((SECONDS - t0))
id=$(cat "$IMG_STATE/image.id")
echo "$ZX_BUILD" >"$IMG_CACHE/checkouts/$IMG_HASH"
cached=$(grep -c -- '--> Using cache' "$IMG_STATE/build-stage.log" "$IMG_STATE/build.log" |
	awk -F: '{n += $2} END {print n + 0}')
ok "podman build -f docker/Dockerfile . -> $IMG_TAG ${id:0:12} (base ${t_base} s, build stage ${t_stage} s, image ${t_image} s; $cached steps from the layer cache)"
img_prune
exec 9>&- # the lock: this image is tagged, another run's prune leaves it alone

# The image's config, as docker/README.md promises it.
zxpodman image inspect "$id" >"$IMG_STATE/inspect.json" || { bad "podman image inspect"; finish; exit 1; }
run "image config: USER 10001:10001, ENTRYPOINT zx-entrypoint, CMD notifyd, ZX_CONFIG, WORKDIR, ports, HEALTHCHECK" \
	"$py" - "$IMG_STATE/inspect.json" <<'PY'
import json, sys
img = json.load(open(sys.argv[1]))[0]
c = img["Config"]
want = {
    "User": "10001:10001",
    "Entrypoint": ["/usr/local/bin/zx-entrypoint"],
    "Cmd": ["notifyd"],
    "WorkingDir": "/var/lib/zx",
}
bad = ["%s is %r, want %r" % (k, c.get(k), v) for k, v in want.items() if c.get(k) != v]
if "ZX_CONFIG=/etc/zx/zx.yaml" not in c.get("Env", []):
    bad.append("Env lacks ZX_CONFIG=/etc/zx/zx.yaml: %r" % c.get("Env"))
ports = set(c.get("ExposedPorts", {}))
need = {"5300/udp", "5300/tcp", "5354/udp", "5354/tcp", "9153/tcp", "9154/tcp"}
if not need <= ports:
    bad.append("ExposedPorts lacks %s" % sorted(need - ports))
hc = img.get("Healthcheck") or {}  # kept because the build uses --format docker
if (hc.get("Test"), hc.get("Interval"), hc.get("Retries")) != (
        ["CMD", "/usr/local/bin/zx-healthcheck"], 15 * 10**9, 3):
    bad.append("HEALTHCHECK is %r" % hc)
for b in bad:
    print(b)
sys.exit(1 if bad else 0)
PY
echo "    image size: $(zxpodman image inspect --format '{{.Size}}' "$id" | awk '{printf "%d MB", $1 / 1e6}')"

# Inside the image.
zxbuildah rm "zx-test-$IMG_HASH-check" >/dev/null 2>&1 # a run killed before its cleanup
ctr=$(zxbuildah from --name "zx-test-$IMG_HASH-check" --pull=never "$id" 2>"$IMG_STATE/from.err") ||
	{ cat "$IMG_STATE/from.err"; bad "buildah from $id"; finish; exit 1; }
inside() { zxbuildah run --isolation chroot --network host "$ctr" -- "$@"; }

for prog in notifyd xfrd xfrctl zx-follow; do
	want=$("${host[$prog]}" --version 2>&1)
	got=$(inside /usr/local/bin/zx-entrypoint "$prog" --version 2>&1)
	run "in the image: zx-entrypoint $prog --version -> '$got' (this tree: '$want')" \
		test -n "$want" -a "$got" = "$want"
done
# shellcheck disable=SC2016 # expanded inside the container
run "in the image: every shared library of the four programs is there (ldd)" \
	inside bash -c 'out=$(ldd /usr/bin/notifyd /usr/bin/xfrd /usr/bin/xfrctl /usr/bin/zx-follow) &&
		! grep "not found" <<<"$out"'
for page in notifyd.8 xfrd.8 xfrctl.8 zx-follow.1; do
	run "in the image: /usr/share/man/man${page##*.}/$page.gz is docker/man/$page" \
		cmp <(inside zcat "/usr/share/man/man${page##*.}/$page.gz") "$ZX_SRC/docker/man/$page"
done
# shellcheck disable=SC2016
run "in the image: no compiler, no cmake, no -dev package (the build stage stays behind)" \
	inside bash -c '! command -v cc && ! command -v cmake &&
		! dpkg-query -W -f "\${Package}\n" | grep -- "-dev$"'
run "in the image: runs as uid=10001(zx) gid=10001(zx)" \
	test "$(inside id)" = "uid=10001(zx) gid=10001(zx) groups=10001(zx)"
run "in the image: /var/lib/zx is zx's, mode 750; /etc/zx/keys exists" \
	test "$(inside stat -c '%u:%g %a' /var/lib/zx /etc/zx/keys 2>&1 | tr '\n' ' ')" = "10001:10001 750 0:0 755 "
run "in the image: the example config is /usr/share/doc/zx/zx.example.yaml" \
	cmp <(inside cat /usr/share/doc/zx/zx.example.yaml) "$ZX_SRC/docker/zx.example.yaml"
out=$(inside /usr/local/bin/zx-entrypoint xfrd 2>&1)
rc=$?
run "in the image: no config mounted -> exit 78 with event=no_config (got $rc)" \
	test "$rc" = 78 -a -n "$(grep 'level=error .*event=no_config path=/etc/zx/zx.yaml' <<<"$out")"
out=$(inside env ZX_HEALTH_PORT=1 /usr/local/bin/zx-healthcheck 2>&1)
rc=$?
run "in the image: the health check runs (nothing on port 1 -> exit 1, 'cannot connect')" \
	test "$rc" = 1 -a -n "$(grep 'cannot connect to 127.0.0.1:1' <<<"$out")"

printf 'IMG_ID=%s\nIMG_TAG=%s\n' "$id" "$IMG_TAG" >"$IMG_STATE/image.env"
echo "    total $((SECONDS - t_start)) s"
finish
