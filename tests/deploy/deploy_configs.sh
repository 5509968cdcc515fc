#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# deploy_configs: the zx configs shipped with the deployments load with the daemons' own
# parser (common/cfg: every key known, values in range, key files readable and valid):
#   docker/compose/zx.yaml         with docker/compose/tsig.conf
#   docker/k8s/configmap.yaml      (data zx.yaml) with docker/k8s/secret.yaml (tsig.conf)
#   docker/k8s/egress/configmap-proxy.yaml  the same with xfrd.proxy (the egress component)
# Both name their key file at /etc/zx/keys/tsig.conf, the path inside the container; the
# check loads copies whose keys[].file points at a temp copy of the key file instead.
# Usage: deploy_configs.sh CFGCHECK_BINARY
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/deploy/lib.sh
. "$here/lib.sh"

cfgcheck=${1:?deploy_cfgcheck binary}
py=$(zx_python) || exit $?
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
d=$ZX_SRC/docker

mkdir -p "$tmp/compose" "$tmp/k8s" "$tmp/k8s-egress"
cp "$d/compose/tsig.conf" "$tmp/compose/tsig.conf"
"$py" - "$d/k8s" "$tmp/k8s" <<'PY'
import os, sys, yaml
src, dst = sys.argv[1], sys.argv[2]
cm = yaml.safe_load(open(os.path.join(src, "configmap.yaml")))
sec = yaml.safe_load(open(os.path.join(src, "secret.yaml")))
open(os.path.join(dst, "zx.yaml"), "w").write(cm["data"]["zx.yaml"])
open(os.path.join(dst, "tsig.conf"), "w").write(sec["stringData"]["tsig.conf"])
eg = yaml.safe_load(open(os.path.join(src, "egress", "configmap-proxy.yaml")))
open(os.path.join(dst + "-egress", "zx.yaml"), "w").write(eg["data"]["zx.yaml"])
PY
sed "s#/etc/zx/keys/tsig.conf#$tmp/compose/tsig.conf#" "$d/compose/zx.yaml" >"$tmp/compose/zx.yaml"
sed -i "s#/etc/zx/keys/tsig.conf#$tmp/k8s/tsig.conf#" "$tmp/k8s/zx.yaml" "$tmp/k8s-egress/zx.yaml"
run "k8s-egress config loads with common/cfg: $("$cfgcheck" "$tmp/k8s-egress/zx.yaml" 2>&1 | head -1)" \
	"$cfgcheck" "$tmp/k8s-egress/zx.yaml"
for f in compose k8s; do
	run "$f config loads with common/cfg: $("$cfgcheck" "$tmp/$f/zx.yaml" 2>&1 | head -1)" \
		"$cfgcheck" "$tmp/$f/zx.yaml"
	run "$f config names the key file /etc/zx/keys/tsig.conf" \
		grep -q 'file: /etc/zx/keys/tsig.conf' \
		"$([ $f = compose ] && echo "$d/compose/zx.yaml" || echo "$d/k8s/configmap.yaml")"
done
finish
