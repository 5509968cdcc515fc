#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/integration/api/openapi.sh -- docs/openapi.yaml checked against a running xfrd (a
# real Kafka broker, a knotd primary): tests/integration/api/openapi_check.py calls every
# documented path and method and validates each answer's status, Content-Type and body.
set -euo pipefail
. "$ZX_SRC/tests/bed/lib.sh"
. "$ZX_SRC/tests/integration/pipeline/lib.sh"
. "$ZX_SRC/tests/integration/api/lib.sh"
python3 -c 'import jsonschema, yaml' 2>/dev/null ||
	bed_skip "python3-jsonschema / python3-yaml missing (tests/bed/install-deps.sh)"
api_init api_openapi c1.test
python3 "$ZX_SRC/tests/integration/api/openapi_check.py" "$ZX_SRC/docs/openapi.yaml" "$API_URL" \
	"$API_ADMIN" "$API_VIEWER" "$API_KNOT" || bed_die "the server and docs/openapi.yaml disagree"
# the check itself: a document that disagrees with the server fails it
python3 - "$ZX_SRC/docs/openapi.yaml" "$BED_T/broken.yaml" <<'PY'
import sys, yaml
spec = yaml.safe_load(open(sys.argv[1]))
spec["components"]["schemas"]["Zone"]["properties"]["name"] = {"type": "integer"}
del spec["paths"]["/v1/zones/{name}"]["put"]["responses"]["201"]
yaml.safe_dump(spec, open(sys.argv[2], "w"))
PY
if python3 "$ZX_SRC/tests/integration/api/openapi_check.py" "$BED_T/broken.yaml" "$API_URL" \
	"$API_ADMIN" "$API_VIEWER" "$API_KNOT" >"$BED_T/broken.out" 2>&1; then
	bed_die "openapi_check passed a document that disagrees with the server"
fi
grep -q "status 201 is not documented" "$BED_T/broken.out" &&
	grep -q "body does not validate at name" "$BED_T/broken.out" ||
	bed_die "openapi_check missed a disagreement: $(grep FAIL "$BED_T/broken.out" | head -5)"
bed_log "ok"
