#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/integration/store/full.sh -- issue 11 item 7: a full store says which full, in
# its own words, everywhere the failure shows.
#
#   map full   xfrd (Kafka mode) with store-size 2M transfers a zone of 60,000 records
#              from the hostile primary: the xfr_failed line says "store full" with
#              LMDB's MDB_MAP_FULL text, so do xfrctl's last error and the FAILED
#              ZoneUpdated event; /metrics has xfrd_store_used_bytes and
#              xfrd_store_size_bytes = 2 MiB. (It read "limit reached" / "refused by
#              the receiver" before.)
#   disk full  the store on a 1 MiB tmpfs, store-size 64M, xfrd --once: "No space left
#              on device ... (the filesystem holding the store is full)" in the log.
#              Needs mount(8) as root: that part is skipped (logged) where it cannot
#              mount.
set -euo pipefail
. "$ZX_SRC/tests/bed/lib.sh"
. "$ZX_SRC/tests/integration/pipeline/lib.sh"
ports=${ZX_BED_PORTS:-}
pl_init store_full 1
[ -n "$ports" ] && export ZX_BED_PORTS=$ports # pl_init's range is the pipeline tests'
xfrctl=$ZX_BUILD/xfrd/xfrctl
hostile=$ZX_BUILD/tests/integration/xfr/hostile_primary
[ -x "$hostile" ] || bed_skip "$hostile not built"
bed_ports 2 port hport
bed_spawn hostile "$hostile" -p "$port" -z h.test. -s 7 -n 60000 -m 200
bed_wait_for 5 grep -q ready "$BED_T/hostile.out" || bed_die "hostile primary did not start"

# config FILE STORE SIZE [KAFKA]
config()
{
	{
		echo "log: { level: info }"
		if [ -n "${4:-}" ]; then
			echo "kafka:"
			echo "  brokers: \"$ZX_KAFKA_BOOTSTRAP\""
			echo "  requests-topic: $PL_REQ"
			echo "  updates-topic: $PL_UPD"
			echo "  group: $PL_GROUP"
			echo "  settings: { \"session.timeout.ms\": \"6000\", \"heartbeat.interval.ms\": \"500\" }"
		fi
		echo "xfrd:"
		echo "  replica: r1"
		echo "  store: $2"
		echo "  store-size: $3"
		echo "  listen: []"
		echo "  http: \"127.0.0.1:$hport\""
		echo "  timeouts: { connect: 1s, read: 5s, transfer: 60s, soa: 1s }"
		echo "zones: [ { name: h.test, primaries: [ \"127.0.0.1@$port\" ] } ]"
	} >"$1"
}

# ---- map full ------------------------------------------------------------------------
config "$BED_T/map.yaml" "$BED_T/map.lmdb" 2M kafka
pl_xfrd x "$BED_T/map.yaml"
failed() { grep -q 'event=xfr_failed zone=h.test.' "$BED_T/x.out"; }
bed_wait_for 60 failed || bed_die "no failed transfer: $(tail -n 5 "$BED_T/x.out")"
line=$(grep 'event=xfr_failed zone=h.test.' "$BED_T/x.out" | head -1)
echo "$line" | grep -q 'error=store full (store-size reached) why=' || bed_die "map full: $line"
echo "$line" | grep -q 'detail=".*MDB_MAP_FULL.*raise xfrd store-size' || bed_die "map full detail: $line"
"$xfrctl" --store "$BED_T/map.lmdb" show h.test >"$BED_T/show.txt"
grep -q '^last-error: .*MDB_MAP_FULL.*(store full (store-size reached))$' "$BED_T/show.txt" ||
	bed_die "xfrctl last error: $(grep last-error "$BED_T/show.txt")"
event() { pl_updates | grep 'kind=UPDATE_KIND_FAILED' | grep -q 'MDB_MAP_FULL'; }
bed_wait_for 20 event || bed_die "FAILED event: $(pl_updates)"
ev=$(pl_updates | grep 'kind=UPDATE_KIND_FAILED' | head -1)
{ echo "$ev" | grep -Eq 'error="store (write|commit): [^"]*MDB_MAP_FULL' &&
	echo "$ev" | grep -Fq '(store full (store-size reached))"'; } || bed_die "the event's error: $ev"
curl -s "http://127.0.0.1:$hport/metrics" >"$BED_T/metrics"
grep -q '^xfrd_store_size_bytes 2097152$' "$BED_T/metrics" || bed_die "$(grep store "$BED_T/metrics")"
grep -q '^xfrd_store_used_bytes [1-9]' "$BED_T/metrics" || bed_die "$(grep store "$BED_T/metrics")"
bed_log "map full: $(grep last-error "$BED_T/show.txt")"
bed_log "map full event: $ev"
bed_stop_pid "$BED_PID" xfrd

# ---- disk full -----------------------------------------------------------------------
mnt=$BED_T/tiny
mkdir -p "$mnt"
if [ "$(id -u)" != 0 ] || ! mount -t tmpfs -o size=1m zx-tiny "$mnt" 2>"$BED_T/mount.err"; then
	bed_log "disk full: skipped (cannot mount a tmpfs here: $(cat "$BED_T/mount.err" 2>/dev/null))"
	bed_log PASS
	exit 0
fi
bed_on_exit "umount '$mnt'"
config "$BED_T/disk.yaml" "$mnt/store" 64M
"$ZX_BUILD/xfrd/xfrd" -c "$BED_T/disk.yaml" --once >"$BED_T/disk.log" 2>&1 && bed_die "a 1 MiB disk took the zone"
line=$(grep 'event=xfr_failed zone=h.test.' "$BED_T/disk.log" | head -1)
echo "$line" | grep -q 'error=No space left on device why=' || bed_die "disk full: $line"
echo "$line" | grep -q 'detail=".*No space left on device (the filesystem holding the store is full)' ||
	bed_die "disk full detail: $line"
"$xfrctl" --store "$mnt/store" show h.test | grep -q '^last-error: .*No space left on device' ||
	bed_die "xfrctl last error: $("$xfrctl" --store "$mnt/store" show h.test | grep last-error)"
bed_log "disk full: $line"
bed_log PASS
