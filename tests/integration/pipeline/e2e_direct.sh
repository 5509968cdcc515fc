#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Smoke: requests produced to Kafka directly -> xfrd --pipeline -> LMDB + ZoneUpdated;
# zones from config start at once; committed offsets reach the end.
set -euo pipefail
. "$ZX_SRC/tests/bed/lib.sh"
. "$ZX_SRC/tests/integration/pipeline/lib.sh"
pl_init pl_smoke 2
bed_ports 2 kport hport
pl_knot "$kport" a.test b.test c.test
pl_config "$BED_T/x.yaml" x0 "$hport" "$kport" "  retry: { min: 2s, max: 1h }" -- a.test b.test c.test
pl_xfrd x0 "$BED_T/x.yaml"
# config zones never transferred start at once (REFRESH requests through Kafka)
bed_wait_for 30 sh -c "'$PLTOOL' zones '$BED_T/x0.lmdb' | grep -c ' 1 fresh' | grep -qx 3" ||
	bed_die "zones not loaded: $(pl_store_serials x0)"
pl_bump b.test
printf 'b.test 2\n' | "$PLTOOL" produce "$ZX_KAFKA_BOOTSTRAP" "$PL_REQ" >/dev/null
bed_wait_for 20 sh -c "'$PLTOOL' zones '$BED_T/x0.lmdb' | grep -q '^b.test. 2 '" ||
	bed_die "b.test not at 2: $(pl_store_serials x0)"
bed_wait_for 20 pl_committed_all || bed_die "offsets not committed"
pl_updates >"$BED_T/updates.txt"
grep -q "zone=b.test.*METHOD_IXFR serial=2" "$BED_T/updates.txt" || { cat "$BED_T/updates.txt"; bed_die "no event"; }
# a NOTIFY ahead of its primary (sent before the reload ended): found up to date,
# finished, and looked at again after the zone's shortest retry (2 s), not its refresh
printf 'c.test 2\n' | "$PLTOOL" produce "$ZX_KAFKA_BOOTSTRAP" "$PL_REQ" >/dev/null
bed_wait_for 10 grep -q "notify_serial_ahead zone=c.test. notified=2 primary=1" "$BED_T/x0.out" ||
	bed_die "no re-check planned"
pl_bump c.test
bed_wait_for 10 sh -c "'$PLTOOL' zones '$BED_T/x0.lmdb' | grep -q '^c.test. 2 '" ||
	bed_die "c.test did not follow on the re-check: $(pl_store_serials x0)"
curl -fsS "http://127.0.0.1:$hport/health" >/dev/null || bed_die "/health"
curl -fsS "http://127.0.0.1:$hport/ready" >/dev/null || bed_die "/ready"
metrics=$(curl -fsS "http://127.0.0.1:$hport/metrics")
grep -q 'xfrd_transfer_outcomes_total{outcome="ixfr"} 2' <<<"$metrics" || bed_die "metrics"
bed_log "PASS"
