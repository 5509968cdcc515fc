#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/integration/store/corrupt.sh -- issue 11 item 2: a damaged store is never served
# as if whole, and a truncated one stops every reader with a message, not a SIGBUS.
#
# xfrd (Kafka mode, DNS endpoint, /metrics) stores a 100,000-record zone from knotd.
# Three pages in the middle of data.mdb then lose their records (zeros after the page
# header) while xfrd is stopped: a bad disk or a stray write that LMDB reads without
# noticing, as a shorter zone (with the header zeroed too, LMDB itself asserts and
# aborts: nothing a reader can check first). Then:
#   - xfrctl dump checks the records against the zone's count and checksum: exit 3 and
#     "corrupt" on stderr (it exited 0 with a short zone half the time before);
#   - kdig AXFR from xfrd gets no closing SOA (the connection is closed), xfrd logs
#     serve_xfr outcome=corrupt with the zone, version, expected and got, counts it in
#     xfrd_store_corrupt_total, and marks the zone: xfrctl zones says "corrupt", SOA
#     queries get SERVFAIL;
#   - xfrctl retransfer has xfrd AXFR the zone again at the same serial: fresh, whole,
#     equal to knotd's AXFR.
# Then data.mdb is cut to half its size: xfrd, xfrctl and zx-follow --store each exit
# with a message naming the truncated file, none on a signal.
set -euo pipefail
. "$ZX_SRC/tests/bed/lib.sh"
. "$ZX_SRC/tests/bed/primary.sh"
. "$ZX_SRC/tests/integration/pipeline/lib.sh"
ports=${ZX_BED_PORTS:-}
pl_init store_corrupt 1
[ -n "$ports" ] && export ZX_BED_PORTS=$ports # pl_init's range is the pipeline tests'
xfrctl=$ZX_BUILD/xfrd/xfrctl
follow=$ZX_BUILD/xfrd/zx-follow
command -v knotd >/dev/null || bed_skip "knotd missing"
command -v ldns-read-zone >/dev/null || bed_skip "ldns-read-zone (ldnsutils) missing"
bed_ports 3 kport xport hport
zone=corrupt.test
key=hmac-sha256:xfr-key:$(head -c 32 /dev/urandom | base64)
"$(bed_tool zonegen)" -z "$zone" -n 100000 -s 7 -S 100 -o "$BED_T/zone.db"
primary_start knot p1 "$kport" "$zone" "$BED_T/zone.db" "$key"
cat >"$BED_T/zx.yaml" <<YAML
log: { level: info }
kafka:
  brokers: "$ZX_KAFKA_BOOTSTRAP"
  requests-topic: $PL_REQ
  updates-topic: $PL_UPD
  group: $PL_GROUP
  settings: { "session.timeout.ms": "6000", "heartbeat.interval.ms": "500" }
keys: [ { name: xfr-key, algorithm: hmac-sha256, secret: "${key##*:}" } ]
xfrd:
  replica: r1
  store: $BED_T/store
  store-size: 1G
  listen: [ "127.0.0.1@$xport" ]
  http: "127.0.0.1:$hport"
  timeouts: { connect: 2s, read: 10s, transfer: 120s, soa: 1s }
zones: [ { name: $zone, primaries: [ "127.0.0.1@$kport" ], key: xfr-key } ]
YAML
start_xfrd() { rm -f "$BED_T/x.out"; pl_xfrd x "$BED_T/zx.yaml"; xpid=$BED_PID; }
stop_xfrd() { bed_stop_pid "$xpid" xfrd; bed_untrack "$xpid"; rm -f "$BED_T/x.pid"; }
axfr_done() { grep -Eq "event=xfr_done .*kind=axfr .* serial=100 " "$BED_T/x.out"; }
soas() { grep -c $'\tSOA\t' "$1" || true; }

start_xfrd
bed_wait_for 120 axfr_done || bed_die "no first AXFR: $(tail -n 5 "$BED_T/x.out")"
primary_axfr p1 >"$BED_T/theirs"
records=$(wc -l <"$BED_T/theirs")
bed_log "xfrd holds $zone: $records records"
stop_xfrd

# ---- three pages of zeros in the middle -------------------------------------------
f=$BED_T/store/data.mdb
pages=$(($(stat -c %s "$f") / 4096))
for at in 40 50 60; do
	dd if=/dev/zero of="$f" bs=1 seek=$((pages * at / 100 * 4096 + 16)) count=4080 conv=notrunc \
		status=none
done
bed_log "zeroed pages $((pages * 40 / 100)), $((pages / 2)), $((pages * 60 / 100)) of $pages (headers kept)"

rc=0
"$xfrctl" --store "$BED_T/store" dump "$zone" >"$BED_T/dump" 2>"$BED_T/dump.err" || rc=$?
[ "$rc" = 3 ] || bed_die "xfrctl dump of the damaged zone exited $rc: $(cat "$BED_T/dump.err")"
grep -q "store data corrupt (zone $zone. version [0-9]* is corrupt" "$BED_T/dump.err" ||
	bed_die "xfrctl dump: $(cat "$BED_T/dump.err")"
bed_log "xfrctl dump: exit 3: $(cut -c1-160 "$BED_T/dump.err")"

start_xfrd
bed_wait_for 30 grep -q 'event=pipeline_started' "$BED_T/x.out" || bed_die "xfrd did not start again"
kdig @127.0.0.1 -p "$xport" -y "$key" +noall +answer +tcp AXFR "$zone" >"$BED_T/axfr" 2>&1 || true
n=$(soas "$BED_T/axfr")
[ "$n" -le 1 ] || bed_die "kdig got $n SOAs (a closing SOA) from a corrupt zone"
got=$(grep -c $'\tIN\t' "$BED_T/axfr" || true)
bed_log "kdig AXFR from xfrd: $got of $records records, $n SOA (no closing SOA)"
bed_wait_for 10 grep -q "event=serve_xfr zone=$zone. .*outcome=corrupt error=store data corrupt detail=" \
	"$BED_T/x.out" || bed_die "no serve_xfr outcome=corrupt line: $(grep serve_xfr "$BED_T/x.out")"
grep "event=serve_xfr" "$BED_T/x.out" | grep -q 'outcome=ok' && bed_die "a corrupt AXFR logged ok"
grep -q "level=error .*event=serve_xfr .*expected\|level=error .*event=serve_xfr .*the zone record says" \
	"$BED_T/x.out" || bed_die "the log line does not say expected and got"
curl -s "http://127.0.0.1:$hport/metrics" >"$BED_T/metrics"
grep -q '^xfrd_store_corrupt_total 1$' "$BED_T/metrics" || bed_die "metric: $(grep corrupt "$BED_T/metrics")"
grep -q '^xfrd_store_used_bytes [1-9]' "$BED_T/metrics" || bed_die "no xfrd_store_used_bytes"
grep -q '^xfrd_store_size_bytes 1073741824$' "$BED_T/metrics" || bed_die "no xfrd_store_size_bytes"
"$xfrctl" --store "$BED_T/store" zones | grep -Eq "^$zone\. +corrupt " ||
	bed_die "xfrctl zones: $("$xfrctl" --store "$BED_T/store" zones)"
"$xfrctl" --store "$BED_T/store" show "$zone" | grep -q '^last-error: .*is corrupt.*(store data corrupt)' ||
	bed_die "xfrctl show: $("$xfrctl" --store "$BED_T/store" show "$zone")"
kdig @127.0.0.1 -p "$xport" +tcp SOA "$zone" | grep -q 'status: SERVFAIL' ||
	bed_die "a corrupt zone still answers SOA"
bed_log "reported: serve_xfr outcome=corrupt, xfrd_store_corrupt_total 1, state corrupt, SERVFAIL"

# ---- retransfer: the same serial again --------------------------------------------
"$xfrctl" -c "$BED_T/zx.yaml" retransfer "$zone" >/dev/null || bed_die "xfrctl retransfer failed"
bed_wait_for 120 grep -Eq "event=xfr_done .*kind=axfr old_serial=100 serial=100 " "$BED_T/x.out" ||
	bed_die "no retransfer: $(grep -E 'xfr_(done|failed)' "$BED_T/x.out" | tail -3)"
"$xfrctl" --store "$BED_T/store" zones | grep -Eq "^$zone\. +fresh +100 " ||
	bed_die "after the retransfer: $("$xfrctl" --store "$BED_T/store" zones)"
bed_axfr 127.0.0.1 "$xport" "$zone" "$key" >"$BED_T/ours" || bed_die "AXFR after the retransfer failed"
bed_zone_compare "$BED_T/theirs" "$BED_T/ours" || bed_die "the re-fetched zone differs from knotd's"
bed_log "xfrctl retransfer: AXFR at serial 100 again, whole, equal to knotd's"
stop_xfrd

# ---- data.mdb cut to half -----------------------------------------------------------
truncate -s $(($(stat -c %s "$f") / 2)) "$f"
expect_message() # NAME RC-FILE OUT-FILE: exited non-zero, not on a signal, said "truncated"
{
	local rc
	rc=$(cat "$2")
	[ "$rc" -ne 0 ] && [ "$rc" -lt 128 ] || bed_die "$1 exited $rc on the truncated store"
	grep -q "data.mdb is truncated" "$3" || bed_die "$1 said: $(tail -n 3 "$3")"
	bed_log "$1: exit $rc: $(grep -o 'data.mdb is truncated[^(]*' "$3" | head -1)"
}
rc=0; "$xfrctl" --store "$BED_T/store" zones >"$BED_T/t1" 2>&1 || rc=$?; echo "$rc" >"$BED_T/t1.rc"
expect_message xfrctl "$BED_T/t1.rc" "$BED_T/t1"
mkdir -p "$BED_T/follow"
rc=0; "$follow" --store "$BED_T/store" -z "$zone" -d "$BED_T/follow" --once >"$BED_T/t2" 2>&1 || rc=$?
echo "$rc" >"$BED_T/t2.rc"
expect_message zx-follow "$BED_T/t2.rc" "$BED_T/t2"
rc=0; timeout 60 "$XFRD" -c "$BED_T/zx.yaml" --pipeline >"$BED_T/t3" 2>&1 || rc=$?; echo "$rc" >"$BED_T/t3.rc"
expect_message xfrd "$BED_T/t3.rc" "$BED_T/t3"
bed_log PASS
