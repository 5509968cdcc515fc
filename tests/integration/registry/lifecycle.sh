#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A zone's life in the registry, against a real broker, knotd primaries, notifyd and
# xfrd (issue 13): added zones are transferred within seconds and NOTIFYs for them
# accepted; a changed primary list takes effect on the next transfer; a removed zone
# stops being served and accepted at once, is announced REMOVED, comes back with its
# data when re-added within the grace and is purged after it; a restart reads the
# registry back; SIGHUP reloads the file's zones and refuses a new store path.
set -euo pipefail
. "$ZX_SRC/tests/bed/lib.sh"
. "$ZX_SRC/tests/integration/registry/lib.sh"
rg_init rg_life 3
has() { [ "$(rg_state x "$1")" = "$2" ]; }
gone() { [ -z "$(rg_state x "$1")" ]; }
[ -x "$ND_BIN" ] || bed_die "$ND_BIN not built"
bed_ports 7 kport kport2 xhttp xdns RG_ND_PORT RG_ND_HTTP fport
PL_KNOT_TIMERS="3600 600 604800"
pl_knot "$kport" a.rg.test b.rg.test c.rg.test d.rg.test f.rg.test
knot1_dir=$PL_KNOT_DIR
conf=$BED_T/zx.yaml
rg_config "$conf" x "$xhttp" "$xdns" 4s
pl_xfrd x "$conf"
bed_wait_for 30 curl -fs "http://127.0.0.1:$xhttp/ready" || bed_die "xfrd not ready: $(curl -s "http://127.0.0.1:$xhttp/ready")"
bed_spawn notifyd "$ND_BIN" -c "$conf"
echo "$BED_PID" >"$BED_T/notifyd.pid"
bed_wait_for 30 curl -fs "http://127.0.0.1:$RG_ND_HTTP/ready" || bed_die "notifyd not ready"

# -- added: transferred within seconds, served, NOTIFY accepted ----------------------
t0=$(date +%s%N)
rg_put "$(rg_zone a.rg.test "$kport")" "$(rg_zone b.rg.test "$kport")" \
	"$(rg_zone c.rg.test "$kport")"
for z in a b c; do
	bed_wait_for 15 has "$z.rg.test." "1 fresh" ||
		bed_die "$z.rg.test not transferred: $(pl_store_serials x)"
done
bed_log "3 zones added -> all in the store: $((($(date +%s%N) - t0) / 1000000)) ms"
[ "$(rg_soa "$xdns" a.rg.test)" = "NOERROR 1" ] || bed_die "a.rg.test not served: $(rg_soa "$xdns" a.rg.test)"
bed_wait_for 10 sh -c "kdig @127.0.0.1 -p $RG_ND_PORT +timeout=2 +retry=0 -t NOTIFY a.rg.test | grep -q 'status: NOERROR'" ||
	bed_die "notifyd does not accept NOTIFY for a registry zone"
kdig @127.0.0.1 -p "$RG_ND_PORT" +timeout=2 +retry=0 -t NOTIFY d.rg.test | grep -q 'status: REFUSED' ||
	bed_die "notifyd accepts NOTIFY for a zone nobody registered"

# -- changed: a new primary list is used by the next transfer -------------------------
pl_bump b.rg.test                      # serial 2 on knot 1
PL_KNOT_DIR_SAVE=$PL_KNOT_DIR
ctl1=$PL_KNOT_CTL
PL_KNOT_NAME=knot2 pl_knot "$kport2" b.rg.test   # knot 2: b.rg.test at serial 1 ...
PL_KNOT_PORT=$kport2
for i in 1 2 3 4 5 6 7 8; do pl_bump b.rg.test >/dev/null; done   # ... then serial 9
rg_put "$(rg_zone b.rg.test "$kport2")"
sleep 1
"$ZXKAFKA" produce-request "$ZX_KAFKA_BOOTSTRAP" "$PL_REQ" b.rg.test >/dev/null
bed_wait_for 15 has b.rg.test. "9 fresh" ||
	bed_die "the new primary was not used: $(pl_store_serials x) $(grep b.rg.test "$BED_T/x.out" | tail -3)"
grep -q "primary=127.0.0.1@$kport2" "$BED_T/x.out" || bed_die "no transfer from the new primary"
PL_KNOT_DIR=$PL_KNOT_DIR_SAVE
PL_KNOT_CTL=$ctl1
PL_KNOT_PORT=$kport

# -- removed: not served, not accepted, announced; re-added within the grace ---------
rg_rm c.rg.test
bed_wait_for 10 has c.rg.test. "1 removed" ||
	bed_die "c.rg.test not marked removed: $(pl_store_serials x)"
r=$(rg_soa "$xdns" c.rg.test)
[ "${r%% *}" = NOTAUTH ] || bed_die "a removed zone is still served: $r"
bed_wait_for 10 sh -c "kdig @127.0.0.1 -p $RG_ND_PORT +timeout=2 +retry=0 -t NOTIFY c.rg.test | grep -q 'status: REFUSED'" ||
	bed_die "notifyd still accepts NOTIFY for a removed zone"
bed_wait_for 10 sh -c "'$ZXKAFKA' consume '$ZX_KAFKA_BOOTSTRAP' '$PL_UPD' --count 1000 --timeout 2 --from-beginning --type update 2>/dev/null | grep -q 'zone=c.rg.test. kind=UPDATE_KIND_REMOVED'" ||
	bed_die "no REMOVED event: $(pl_updates | grep c.rg.test)"
rg_put "$(rg_zone c.rg.test "$kport")"
bed_wait_for 10 has c.rg.test. "1 fresh" ||
	bed_die "c.rg.test not restored: $(pl_store_serials x)"
grep -q "zone_restored zone=c.rg.test. serial=1" "$BED_T/x.out" || bed_die "not restored with its data"
[ "$(rg_soa "$xdns" c.rg.test)" = "NOERROR 1" ] || bed_die "a re-added zone is not served"

# -- purged after the grace (4 s here) ------------------------------------------------
rg_rm a.rg.test
bed_wait_for 10 has a.rg.test. "1 removed" ||
	bed_die "a.rg.test not marked removed"
bed_wait_for 20 gone a.rg.test. ||
	bed_die "a.rg.test not purged after the grace: $(pl_store_serials x)"
grep -q "zone_purged zone=a.rg.test." "$BED_T/x.out" || bed_die "no purge logged"

# -- restart: the registry is read back --------------------------------------------------
bed_stop_pid "$(cat "$BED_T/x.pid")" x
mv "$BED_T/x.out" "$BED_T/x.1.out"
pl_xfrd x "$conf"
bed_wait_for 30 curl -fs "http://127.0.0.1:$xhttp/ready" || bed_die "xfrd not ready after a restart"
grep -q "registry_loaded .*zones=" "$BED_T/x.out" || bed_die "no registry_loaded"
[ "$(rg_soa "$xdns" b.rg.test)" = "NOERROR 9" ] || bed_die "b.rg.test not served after a restart"
[ "$(rg_soa "$xdns" c.rg.test)" = "NOERROR 1" ] || bed_die "c.rg.test not served after a restart"
r=$(rg_soa "$xdns" a.rg.test)
[ "${r%% *}" = NOTAUTH ] || bed_die "a purged zone came back: $r"
grep -q "zone_removed.*stored=yes" "$BED_T/x.out" && bed_die "a restart removed zones: $(grep zone_removed "$BED_T/x.out")"

# -- SIGHUP: a file zone added live; a new store path refused -----------------------------
RG_FILE_ZONES="f.rg.test@$kport" rg_config "$conf" x "$xhttp" "$xdns" 4s
kill -HUP "$(cat "$BED_T/x.pid")"
bed_wait_for 15 has f.rg.test. "1 fresh" ||
	bed_die "a file zone added by a reload was not transferred: $(tail -5 "$BED_T/x.out")"
grep -q "reloaded path=.* zones=1" "$BED_T/x.out" || bed_die "no reloaded line"
sed -i "s|store: $BED_T/x.lmdb|store: $BED_T/other.lmdb|" "$conf"
kill -HUP "$(cat "$BED_T/x.pid")"
bed_wait_for 10 grep -q "reload_refused .*fields=xfrd.store" "$BED_T/x.out" ||
	bed_die "a new store path was not refused"
kill -0 "$(cat "$BED_T/x.pid")" || bed_die "xfrd died on a reload"
bed_log "registry lifecycle ok"
