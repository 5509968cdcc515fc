#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# deploy_monitoring: the Prometheus alert rules, the scrape config and the Grafana dashboard
# in docker/, offline:
#   - `promtool check rules docker/prometheus/alerts.yaml`;
#   - `promtool test rules tests/deploy/alerts_test.yaml`: each alert fires where it must
#     and stays silent before its `for`, below its threshold and on other series;
#   - `promtool check config docker/prometheus/prometheus.yml`, and its commented
#     Kubernetes job with a static target in place of the service discovery (Debian's
#     promtool has no Kubernetes SD), so its relabelling is checked too;
#   - check_monitoring.py: the dashboard is well-formed, its queries are valid PromQL,
#     and every metric the rules and the dashboard use is registered in the sources or
#     listed in tests/deploy/metrics_planned.txt (deploy_image_start checks the live
#     /metrics of the daemons in the image against the same lists).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/deploy/lib.sh
. "$here/lib.sh"

pt=$(need promtool "Debian package prometheus") || exit $?
py=$(zx_python) || exit $?
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prom=$ZX_SRC/docker/prometheus

run "$("$pt" --version 2>&1 | head -1 | cut -d' ' -f1-3): check rules docker/prometheus/alerts.yaml" \
	"$pt" check rules "$prom/alerts.yaml"
run "promtool test rules tests/deploy/alerts_test.yaml" "$pt" test rules "$here/alerts_test.yaml"
run "promtool check config docker/prometheus/prometheus.yml" "$pt" check config "$prom/prometheus.yml"

# The commented Kubernetes job, uncommented, with a static target for its service discovery.
cp "$prom/alerts.yaml" "$tmp/"
"$py" - "$prom/prometheus.yml" "$tmp/prometheus.yml" <<'PY'
import sys
text = open(sys.argv[1]).read()
head, job = text.split("  # - job_name: zx-k8s-pods", 1)
lines = ["  # - job_name: zx-k8s-pods"] + job.splitlines()[1:]
block = "\n".join(" " + l[3:] for l in lines if l.startswith("  #"))
sd = "    kubernetes_sd_configs:\n      - role: pod\n        namespaces: { names: [ zx ] }\n"
assert sd in block + "\n", "the Kubernetes job's service discovery block changed"
block = (block + "\n").replace(sd, '    static_configs:\n      - targets: [ "10.0.0.1:9154" ]\n')
open(sys.argv[2], "w").write(head + block)
PY
run "promtool check config: prometheus.yml's commented Kubernetes job (static target)" \
	"$pt" check config "$tmp/prometheus.yml"

run "check_monitoring.py: dashboard well-formed, queries PromQL, metrics registered or planned" \
	"$py" "$here/check_monitoring.py" "$ZX_SRC" --promtool "$pt"
finish
