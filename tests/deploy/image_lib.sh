# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# tests/deploy/image_lib.sh -- the container image of docker/Dockerfile, built and run
# for real without a Docker engine (FIELD-NOTES.md, "Building and running the container
# image without a Docker engine"). Sourced by deploy_image_build.sh and
# deploy_image_start.sh, after lib.sh.
#
#   img_init            the podman/buildah storage, the tag of this checkout's image;
#                       exits 77 where the machine cannot run containers at all
#   zxpodman ARGS...    podman on that storage (cgroupfs: the VM lacks what systemd's
#                       cgroup manager and plain `podman run` need)
#   zxbuildah ARGS...   buildah on that storage (also the array IMG_BUILDAH, for setsid)
#   img_base            the Debian 12 base under every tag docker/Dockerfile's FROM names:
#                       `mmdebstrap --variant=minbase bookworm` (cached), `podman import`
#   img_lock            serialise builds and pruning between test runs on this machine
#
# Storage and caches (all under $ZX_CACHE, default ~/.cache/zx, like the Kafka jars):
#   image/base-bookworm-<8 hex>.tar  the mmdebstrap tarball (the hex: a digest of its
#                             recipe), made again after ZX_IMAGE_BASE_DAYS days (default
#                             30) so that apt in the build starts from a recent base
#   image/storage             podman's image store: the base, the cached layers (the
#                             apt-get layers of both stages, kept through the tag
#                             localhost/zx-test:build-stage) and one image per checkout,
#                             localhost/zx-test:<8 hex of the build dir>; images of build
#                             dirs that no longer exist are removed by the next build
#   image/checkouts/<tag>     the build dir that tag belongs to
# The run root (locks, mount state; not kept across boots) is /run/zx-podman.<8 hex>.
# Nothing here touches the machine's own podman storage (/var/lib/containers).
#
# Environment: ZX_CACHE, ZX_IMAGE_BASE_DAYS, ZX_DEBIAN_MIRROR (default
# http://deb.debian.org/debian; the security suite comes from .../debian-security).

IMG_CACHE=${ZX_CACHE:-$HOME/.cache/zx}/image
IMG_STORE=$IMG_CACHE/storage
# shellcheck disable=SC2034 # used by the scripts that source this file
IMG_BUILD_CACHE_TAG=localhost/zx-test:build-stage

# img_skip WHY: exit 77 with WHY. Only for what the machine cannot do at all (not root,
# no mount namespaces); a missing package skips only outside CI (lib.sh's need).
img_skip()
{
	echo "SKIP: $*" >&2
	exit 77
}

img_init()
{
	if [ "$(id -u)" -ne 0 ]; then
		img_skip "not root: the image is built with podman as root (rootless podman needs" \
			"subordinate uid/gid ranges in /etc/subuid and newuidmap, which this suite does not set up)"
	fi
	if ! unshare --mount --uts --ipc --fork true 2>/dev/null; then
		img_skip "cannot create mount namespaces here (unshare --mount fails: a container" \
			"without CAP_SYS_ADMIN?); buildah's chroot isolation needs them"
	fi
	need podman "Debian package podman" >/dev/null || exit $?
	need buildah "Debian package buildah" >/dev/null || exit $?
	need mmdebstrap "Debian package mmdebstrap" >/dev/null || exit $?
	local h
	h=$(printf '%s' "$IMG_STORE" | sha256sum | cut -c1-8)
	IMG_RUNROOT=/run/zx-podman.$h
	[ -d /run ] && [ -w /run ] || IMG_RUNROOT=/tmp/zx-podman.$h
	mkdir -p "$IMG_STORE" "$IMG_RUNROOT" "$IMG_CACHE/checkouts"
	IMG_PODMAN=(podman --root "$IMG_STORE" --runroot "$IMG_RUNROOT" --cgroup-manager=cgroupfs)
	IMG_BUILDAH=(buildah --root "$IMG_STORE" --runroot "$IMG_RUNROOT")
	IMG_HASH=$(printf '%s' "$ZX_BUILD" | sha256sum | cut -c1-8)
	# shellcheck disable=SC2034 # used by the scripts that source this file
	IMG_TAG=localhost/zx-test:$IMG_HASH
	IMG_STATE=$ZX_BUILD/deploy-image
	mkdir -p "$IMG_STATE"
}

zxpodman() { "${IMG_PODMAN[@]}" "$@"; }
zxbuildah() { "${IMG_BUILDAH[@]}" "$@"; }

# img_lock: hold $IMG_CACHE/lock (fd 9) until the script exits; waits up to 20 min for
# another run's build.
img_lock()
{
	exec 9>"$IMG_CACHE/lock"
	if ! flock -n 9; then
		echo "waiting for another test run's image build ($IMG_CACHE/lock)" >&2
		flock -w 1200 9 || { echo "FAIL: $IMG_CACHE/lock held for 20 minutes" >&2; exit 1; }
	fi
}

# img_from_tags: the base images docker/Dockerfile's FROM lines name (not its stages),
# fully qualified as podman resolves them (debian:x -> docker.io/library/debian:x).
img_from_tags()
{
	awk 'toupper($1) == "FROM" {
		img = ""
		for (i = 2; i <= NF; i++) if ($i !~ /^--/) { img = $i; break }
		if (tolower($(NF - 1)) == "as") stage[tolower($NF)] = 1
		if (!(tolower(img) in stage)) print img
	}' "$ZX_SRC/docker/Dockerfile" | sort -u | while read -r img; do
		case "$img" in
		*/*/*) echo "$img" ;;
		*/*) case "${img%%/*}" in *.* | *:* | localhost) echo "$img" ;; *) echo "docker.io/$img" ;; esac ;;
		*) echo "docker.io/library/$img" ;;
		esac
	done
}

# img_base: the base tarball (made when missing, older than ZX_IMAGE_BASE_DAYS or made by
# other mmdebstrap arguments), then imported under every FROM tag not holding it yet.
img_base()
{
	local days=${ZX_IMAGE_BASE_DAYS:-30} mirror=${ZX_DEBIAN_MIRROR:-http://deb.debian.org/debian}
	local tags tag tmp t0 stamp mark hooks=/usr/share/mmdebstrap/hooks/merged-usr
	tags=$(img_from_tags)
	[ -n "$tags" ] || { echo "FAIL: no FROM in docker/Dockerfile" >&2; return 1; }
	for tag in $tags; do
		case "$tag" in
		docker.io/library/debian:bookworm* | docker.io/library/debian:12*) ;;
		*)
			echo "FAIL: docker/Dockerfile builds FROM $tag; this test can only make a Debian 12" \
				"base (mmdebstrap bookworm) and no registry is reachable" >&2
			return 1
			;;
		esac
	done
	# Docker's debian:bookworm-slim, as far as mmdebstrap goes: minbase; merged /usr by
	# directory symlinks as debootstrap makes it (the hook; otherwise apt pulls usrmerge and
	# perl in); dpkg leaves out manuals, docs (copyrights kept) and locales, and keeps
	# leaving them out in the image, so the Dockerfile's apt-get installs do too.
	[ -d "$hooks" ] || { echo "FAIL: $hooks missing (mmdebstrap too old?)" >&2; return 1; }
	local args=(--variant=minbase --components=main --hook-dir="$hooks"
		--dpkgopt='path-exclude=/usr/share/man/*'
		--dpkgopt='path-exclude=/usr/share/doc/*'
		--dpkgopt='path-include=/usr/share/doc/*/copyright'
		--dpkgopt='path-exclude=/usr/share/info/*'
		--dpkgopt='path-exclude=/usr/share/locale/*'
		--dpkgopt='path-exclude=/usr/share/groff/*'
		--dpkgopt='path-exclude=/usr/share/lintian/*'
		bookworm)
	local sources=("deb $mirror bookworm main" "deb $mirror bookworm-updates main"
		"deb ${mirror%/debian}/debian-security bookworm-security main")
	# The tarball's name carries a digest of the recipe: a changed recipe makes a new base.
	IMG_BASE_TAR=$IMG_CACHE/base-bookworm-$(printf '%s\n' "${args[@]}" "${sources[@]}" |
		sha256sum | cut -c1-8).tar
	if [ -f "$IMG_BASE_TAR" ] && [ -z "$(find "$IMG_BASE_TAR" -mtime "+$days")" ]; then
		echo "base: cached $IMG_BASE_TAR ($(du -m "$IMG_BASE_TAR" | cut -f1) MiB, $(((
			$(date +%s) - $(stat -c %Y "$IMG_BASE_TAR")) / 86400)) days old)"
	else
		tmp=$(mktemp "$IMG_CACHE/.base.XXXXXX.tar")
		t0=$SECONDS
		echo "base: mmdebstrap --variant=minbase bookworm from $mirror (about a minute)"
		if ! mmdebstrap --quiet "${args[@]}" "$tmp" "${sources[@]}" \
			>"$IMG_STATE/mmdebstrap.log" 2>&1 </dev/null; then
			tail -20 "$IMG_STATE/mmdebstrap.log" >&2
			rm -f "$tmp"
			echo "FAIL: mmdebstrap failed (log $IMG_STATE/mmdebstrap.log)" >&2
			return 1
		fi
		rm -f "$IMG_CACHE"/base-bookworm*.tar
		mv -f "$tmp" "$IMG_BASE_TAR"
		echo "base: made $IMG_BASE_TAR in $((SECONDS - t0)) s ($(du -m "$IMG_BASE_TAR" | cut -f1) MiB)"
	fi
	stamp="$(basename "$IMG_BASE_TAR") $(stat -c '%Y %s' "$IMG_BASE_TAR")"
	for tag in $tags; do
		mark=$IMG_CACHE/imported.$(printf '%s' "$tag" | tr -c 'a-zA-Z0-9.-' _)
		if zxpodman image exists "$tag" && [ "$(cat "$mark" 2>/dev/null)" = "$stamp" ]; then
			echo "base: $tag already imported"
			continue
		fi
		t0=$SECONDS
		zxpodman import --quiet "$IMG_BASE_TAR" "$tag" >/dev/null ||
			{ echo "FAIL: podman import $IMG_BASE_TAR $tag" >&2; return 1; }
		echo "$stamp" >"$mark"
		echo "base: podman import as $tag in $((SECONDS - t0)) s"
	done
}

# img_prune: remove the images of checkouts whose build dir is gone, then every dangling
# image (old build-stage layers, images replaced under their tag). Call with the lock held.
img_prune()
{
	local f dir tag
	for f in "$IMG_CACHE"/checkouts/*; do
		[ -f "$f" ] || continue
		dir=$(cat "$f")
		[ -d "$dir" ] && continue
		tag=localhost/zx-test:$(basename "$f")
		zxpodman rmi --force "$tag" >/dev/null 2>&1 && echo "prune: $tag (build dir $dir is gone)"
		rm -f "$f"
	done
	zxpodman image prune --force >/dev/null || echo "prune: podman image prune failed" >&2
}
