#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The seed's loss scenario (Figure 5): on one partition, zone 1's transfer is
# slow (a primary that stalls mid-AXFR), zone 2's finishes; xfrd is SIGKILLed and
# restarted: zone 1's request was not committed past, is read again, and zone 1
# is transferred.
set -euo pipefail
. "$ZX_SRC/tests/bed/lib.sh"
. "$ZX_SRC/tests/integration/pipeline/lib.sh"
pl_init pl_loss 1
HOSTILE=$ZX_BUILD/tests/integration/xfr/hostile_primary
[ -x "$HOSTILE" ] || bed_die "$HOSTILE not built"
bed_ports 3 kport sport hport
pl_knot "$kport" fast.test
bed_spawn hostile "$HOSTILE" -p "$sport" -z slow.test. -s 5 -M stall:1 -S 120
hpid=$BED_PID
bed_wait_for 10 kdig @127.0.0.1 -p "$sport" +timeout=1 +retry=0 slow.test SOA || bed_die "hostile"
PL_TIMEOUTS="{ connect: 1s, read: 60s, transfer: 90s, soa: 1s }"
pl_config "$BED_T/x.yaml" x0 "$hport" "$kport" "  health: { commit-stall: 2s }" -- fast.test
# slow.test: from the stalling primary
echo "  - { name: slow.test, primaries: [ \"127.0.0.1@$sport\" ] }" >>"$BED_T/x.yaml"
pl_xfrd x0 "$BED_T/x.yaml"
x0=$BED_PID
bed_wait_for 30 sh -c "'$PLTOOL' zones '$BED_T/x0.lmdb' | grep -q '^fast.test. 1 '" ||
	bed_die "fast.test not loaded"
# the NOTIFYs: zone 1 (slow) first, then zone 2 (fast, a new serial)
pl_bump fast.test
printf 'slow.test 5\nfast.test 2\n' | "$PLTOOL" produce "$ZX_KAFKA_BOOTSTRAP" "$PL_REQ" >/dev/null
bed_wait_for 20 sh -c "'$PLTOOL' zones '$BED_T/x0.lmdb' | grep -q '^fast.test. 2 '" ||
	bed_die "fast.test not at 2: $(pl_store_serials x0)"
sleep 1 # commits are batched every 50 ms: give them time to happen, had they been wrong
slow_off=$(sed -n 's/.*request_read zone=slow.test. partition=0 offset=\([0-9]*\) origin=notify.*/\1/p' \
	"$BED_T/x0.out" | head -1)
first_off=$(sed -n 's/.*request_read zone=slow.test. partition=0 offset=\([0-9]*\) .*/\1/p' \
	"$BED_T/x0.out" | head -1)
[ -n "$slow_off" ] && [ -n "$first_off" ] || bed_die "slow.test NOTIFY not read"
committed=$("$ZXKAFKA" offsets "$ZX_KAFKA_BOOTSTRAP" "$PL_GROUP" "$PL_REQ" |
	sed -n 's/partition=0 committed=\(-*[0-9]*\) .*/\1/p')
bed_log "slow.test requests at offsets $first_off (first) and $slow_off (NOTIFY); committed $committed"
[ "$committed" -le "$first_off" ] || bed_die "committed $committed past the unfinished $first_off"
if "$PLTOOL" zones "$BED_T/x0.lmdb" | grep -q '^slow.test. 5'; then
	bed_die "slow.test should still be transferring"
fi
# liveness (the Kafka health post): the partition has lag and its commit is stuck
health() { curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$hport/health"; }
bed_wait_for 10 sh -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$hport/health)\" = 503 ]" ||
	bed_die "/health still passes with a stuck partition: $(health)"
bed_log "/health: 503 ($(curl -s "http://127.0.0.1:$hport/health"))"
kill -KILL "$x0"
bed_log "xfrd SIGKILLed mid-transfer of slow.test"
# the primary behaves now
kill -KILL "$hpid"
bed_spawn hostile2 "$HOSTILE" -p "$sport" -z slow.test. -s 5
bed_wait_for 10 kdig @127.0.0.1 -p "$sport" +timeout=1 +retry=0 slow.test SOA || bed_die "hostile2"
mv "$BED_T/x0.out" "$BED_T/x0.first.out"
pl_xfrd x0 "$BED_T/x.yaml"
bed_wait_for 60 sh -c "'$PLTOOL' zones '$BED_T/x0.lmdb' | grep -q '^slow.test. 5 '" ||
	bed_die "slow.test not transferred after the restart: $(pl_store_serials x0)"
grep -q "request_read zone=slow.test. partition=0 offset=$slow_off origin=notify" "$BED_T/x0.out" ||
	bed_die "the NOTIFY at $slow_off was not read again"
bed_wait_for 20 pl_committed_all || bed_die "offsets not committed to the end"
[ "$(health)" = 200 ] || bed_die "/health fails after recovery: $(health)"
pl_updates | grep -q "zone=slow.test.*serial=5" || bed_die "no ZoneUpdated for slow.test"
bed_log "PASS: slow.test transferred after the restart, from the re-read offset $slow_off"
