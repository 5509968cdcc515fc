#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/integration/api/ops.sh -- the operator's status and control commands of xfrctl
# against a real xfrd (Kafka mode, the bed's broker) and a real knotd primary:
#   - status ZONE: serial, state, owner, last success, last error with its primary,
#     next refresh (refresh or retry, with the intervals), expiry; --json; status alone:
#     xfrd's version, uptime, partitions, zones by state, Kafka;
#   - refresh --wait: exit 0 with the new serial (IXFR), 0 "up to date" when the primary
#     has nothing newer; retransfer --wait: 0 (AXFR); a zone whose primary is down:
#     exit 7 with the error and the primary; --wait on a zone xfrd never finishes
#     (no xfrd): exit 8 in the time given;
#   - expire: SERVFAIL at once, an EXPIRED event, state expired; refresh brings it back;
#   - purge: refused without --confirm (2); with it the data is gone and transferred
#     anew (an AXFR event), served like knotd's again;
#   - notify: the zone's downstream target gets another NOTIFY; a zone without targets:
#     409 (exit 5);
#   - process_start_time_seconds and xfrd_build_info on /metrics.
set -euo pipefail
. "$ZX_SRC/tests/bed/lib.sh"
. "$ZX_SRC/tests/integration/pipeline/lib.sh"
. "$ZX_SRC/tests/integration/api/lib.sh"
api_init api_ops n1.test

xfrctl=$ZX_BUILD/xfrd/xfrctl
x()
{ # x RC ARGS...: xfrctl with the admin's token, stdout in $BED_T/out, stderr in $BED_T/err
	local want=$1 rc=0
	shift
	ZX_API_TOKEN=$API_ADMIN "$xfrctl" "$@" >"$BED_T/out" 2>"$BED_T/err" || rc=$?
	[ "$rc" = "$want" ] || bed_die "xfrctl $* exited $rc, want $want: $(cat "$BED_T/out" "$BED_T/err")"
}
served_like_knot()
{
	bed_axfr 127.0.0.1 "$API_DNS" "$1" >"$BED_T/x.$1" 2>/dev/null &&
		bed_axfr 127.0.0.1 "$API_KNOT" "$1" >"$BED_T/k.$1" &&
		cmp -s "$BED_T/x.$1" "$BED_T/k.$1"
}
rcode()
{
	kdig @127.0.0.1 -p "$API_DNS" +timeout=2 +retry=0 SOA "$1" | awk '/status:/ {print $6}' | tr -d ';,'
}
bed_wait_for 20 served_like_knot file.test || bed_die "file.test not served"

# ---- status ----------------------------------------------------------------------------
bed_log "status ZONE: serial, state, owner, last success, next refresh, expiry"
x 0 -c "$API_CONF" status file.test
grep -q '^state: *fresh$' "$BED_T/out" && grep -Eq '^serial: *1 \([0-9]+ records\)$' "$BED_T/out" &&
	grep -q '^owner: *this replica, partition [0-3] (asked replica api-0)$' "$BED_T/out" &&
	grep -Eq '^last-success: *20[0-9-]+T[0-9:]+Z$' "$BED_T/out" &&
	grep -q '^last-error: *-$' "$BED_T/out" &&
	grep -Eq '^next-refresh: *20[0-9-]+T[0-9:]+Z \(in [0-9]+m[0-9]+s\) refresh; refresh 3600s, retry 600s$' "$BED_T/out" &&
	grep -Eq '^expire-at: *20[0-9-]+T[0-9:]+Z \(in (6d23h|7d0h)\) expire 604800s$' "$BED_T/out" ||
	bed_die "status file.test: $(cat "$BED_T/out")"
x 0 -c "$API_CONF" --json status file.test
python3 - "$BED_T/out" <<'PY' || bed_die "status --json: $(cat "$BED_T/out")"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["serial"] == 1 and j["state"] == "fresh" and j["owned"], j
assert j["next-refresh-kind"] == "refresh", j
assert (j["refresh-interval"], j["retry-interval"], j["expire-interval"]) == (3600, 600, 604800), j
assert 3000 < j["next-refresh-in"] <= 3600 and 604000 < j["expire-in"] <= 604800, j
PY
x 0 -c "$API_CONF" status
grep -q '^program: *xfrd 0.1.0 replica=api-0$' "$BED_T/out" &&
	grep -Eq '^started: *20[0-9-]+T[0-9:]+Z \(up [0-9]+(m[0-9]+)?s\)$' "$BED_T/out" &&
	grep -q '^partitions: *4 of 4 owned$' "$BED_T/out" &&
	grep -q '^zones: *1 run here, 1 stored: fresh 1, failed 0, expired 0, removed 0, corrupt 0; 0 transfers running$' "$BED_T/out" &&
	grep -q '^kafka: *ready, live$' "$BED_T/out" || bed_die "status: $(cat "$BED_T/out")"
x 0 -c "$API_CONF" --json status
[ "$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(j["kafka"]["ready"], j["partitions"]["owned"])' "$BED_T/out")" = "True 4" ] ||
	bed_die "status --json: $(cat "$BED_T/out")"
x 1 -c "$API_CONF" status nowhere.test

bed_log "process_start_time_seconds and xfrd_build_info"
curl -s "$API_URL/metrics" >"$BED_T/metrics"
start=$(awk '$1 == "process_start_time_seconds" {print $2}' "$BED_T/metrics")
now=$(date +%s)
[ -n "$start" ] && [ "$start" -le "$now" ] && [ "$start" -gt $((now - 600)) ] ||
	bed_die "process_start_time_seconds=$start now=$now"
grep -q '^xfrd_build_info{version="0.1.0"} 1$' "$BED_T/metrics" || bed_die "no xfrd_build_info"

bed_log "per-zone series; the group's lag per partition from librdkafka's statistics"
grep -q '^xfrd_zone_serial{zone="file.test."} 1$' "$BED_T/metrics" &&
	grep -q '^xfrd_zone_state{zone="file.test.",state="fresh"} 1$' "$BED_T/metrics" &&
	grep -q '^xfrd_zone_state{zone="file.test.",state="failed"} 0$' "$BED_T/metrics" &&
	grep -Eq '^xfrd_zone_last_success_seconds\{zone="file.test."\} [0-9]+$' "$BED_T/metrics" &&
	grep -Eq '^xfrd_zone_expire_seconds\{zone="file.test."\} 60[0-9]{4}$' "$BED_T/metrics" ||
	bed_die "per-zone series: $(grep '^xfrd_zone_' "$BED_T/metrics")"
lag4()
{
	[ "$(curl -s "$API_URL/metrics" | grep -cE '^xfrd_kafka_consumer_lag\{partition="[0-3]"\} 0$')" = 4 ]
}
bed_wait_for 15 lag4 || bed_die "xfrd_kafka_consumer_lag: $(curl -s "$API_URL/metrics" | grep kafka_consumer_lag)"

# ---- refresh / retransfer --wait -------------------------------------------------------
bed_log "refresh --wait: the new serial by IXFR; again: up to date; retransfer --wait: AXFR"
pl_bump file.test
t0=$SECONDS
x 0 -c "$API_CONF" refresh --wait=30 file.test
grep -q '^refresh done: zone=file.test. serial=2 method=IXFR primary=127.0.0.1@'"$API_KNOT"' replica=api-0$' \
	"$BED_T/out" || bed_die "refresh --wait: $(cat "$BED_T/out")"
bed_log "refresh --wait answered in $((SECONDS - t0)) s"
[ "$(kdig @127.0.0.1 -p "$API_DNS" +short SOA file.test | awk '{print $3}')" = 2 ] ||
	bed_die "serial 2 not served after refresh --wait returned"
x 0 -c "$API_CONF" refresh --wait file.test
grep -q '^refresh done: zone=file.test. up to date' "$BED_T/out" || bed_die "up to date: $(cat "$BED_T/out")"
x 0 -c "$API_CONF" --json retransfer --wait=30 file.test
[ "$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(j["outcome"], j["serial"], j["method"])' "$BED_T/out")" = \
	"committed 2 AXFR" ] || bed_die "retransfer --wait --json: $(cat "$BED_T/out")"
x 2 -c "$API_CONF" refresh --wait=0 file.test
x 2 -c "$API_CONF" --wait zones

bed_log "a primary that is down: exit 7 with the error; status shows it and the retry"
dead=$(bed_port)
bed_port_keep "$dead"
cp "$API_CONF" "$BED_T/zx.keep"
echo "  - { name: dead.test, primaries: [ \"127.0.0.1@$dead\" ] }" >>"$API_CONF"
kill -HUP "$API_PID"
bed_wait_for 10 grep -q 'reloaded' "$BED_T/api-0.out" || bed_die "no reload"
bed_wait_for 10 sh -c "ZX_API_TOKEN=$API_ADMIN $xfrctl -c $API_CONF status dead.test | grep -q '^state: *failed'" ||
	bed_die "dead.test not failed: $(ZX_API_TOKEN=$API_ADMIN "$xfrctl" -c "$API_CONF" status dead.test)"
x 7 -c "$API_CONF" refresh --wait=30 dead.test
grep -q "^xfrctl: refresh dead.test. failed: .* (primary 127.0.0.1@$dead, replica api-0)$" "$BED_T/err" ||
	bed_die "refresh --wait of a dead primary: $(cat "$BED_T/err")"
x 0 -c "$API_CONF" status dead.test
grep -q "^last-error: .* at 20[0-9-]*T[0-9:]*Z from primary 127.0.0.1@$dead$" "$BED_T/out" &&
	grep -Eq '^next-refresh: .* retry; refresh 3600s, retry 600s$' "$BED_T/out" &&
	grep -q '^serial: *-$' "$BED_T/out" || bed_die "status dead.test: $(cat "$BED_T/out")"

bed_log "outcomes by primary; xfrd_transfer_duration_seconds by outcome"
curl -s "$API_URL/metrics" >"$BED_T/metrics"
grep -Eq "^xfrd_primary_outcomes_total\{primary=\"127.0.0.1@$API_KNOT\",outcome=\"ixfr\"\} [1-9]" "$BED_T/metrics" &&
	grep -Eq "^xfrd_primary_outcomes_total\{primary=\"127.0.0.1@$API_KNOT\",outcome=\"axfr\"\} [1-9]" "$BED_T/metrics" &&
	grep -Eq "^xfrd_primary_outcomes_total\{primary=\"127.0.0.1@$dead\",outcome=\"failed\"\} [1-9]" "$BED_T/metrics" &&
	grep -Eq "^xfrd_primary_outcomes_total\{primary=\"127.0.0.1@$dead\",outcome=\"axfr\"\} 0$" "$BED_T/metrics" ||
	bed_die "xfrd_primary_outcomes_total: $(grep primary_outcomes "$BED_T/metrics")"
grep -Eq '^xfrd_transfer_duration_seconds_count\{outcome="ixfr"\} [1-9]' "$BED_T/metrics" &&
	grep -Eq '^xfrd_transfer_duration_seconds_count\{outcome="uptodate"\} [1-9]' "$BED_T/metrics" &&
	! grep -q '^xfrd_transfer_duration_seconds.*method=' "$BED_T/metrics" ||
	bed_die "xfrd_transfer_duration_seconds: $(grep duration_seconds_count "$BED_T/metrics")"

# ---- expire, purge, notify ----------------------------------------------------------------
bed_log "expire: SERVFAIL at once, EXPIRED event; refresh --wait brings it back"
[ "$(rcode file.test)" = NOERROR ] || bed_die "file.test not served before expire"
x 0 -c "$API_CONF" expire file.test
grep -q '^zone file.test expired (no longer served) on replica api-0$' "$BED_T/out" ||
	bed_die "expire: $(cat "$BED_T/out")"
[ "$(rcode file.test)" = SERVFAIL ] || bed_die "expired file.test still served: $(rcode file.test)"
grep -q 'operator_action zone=file.test. action=expire' "$BED_T/api-0.out" || bed_die "no operator_action log"
bed_wait_for 10 sh -c "'$ZXKAFKA' consume '$ZX_KAFKA_BOOTSTRAP' '$PL_UPD' --count 1000 --timeout 2 --from-beginning --type update 2>/dev/null | grep -q 'file.test. kind=UPDATE_KIND_EXPIRED'" ||
	bed_die "no EXPIRED event: $(pl_updates | tail -3)"
x 0 -c "$API_CONF" status file.test
grep -q '^state: *expired$' "$BED_T/out" || bed_die "status after expire: $(cat "$BED_T/out")"
x 0 -c "$API_CONF" refresh --wait=30 file.test
[ "$(rcode file.test)" = NOERROR ] || bed_die "file.test not served after refresh"

bed_log "purge: refused without --confirm; with it the zone is fetched anew by AXFR"
x 2 -c "$API_CONF" purge file.test
grep -q 'add --confirm' "$BED_T/err" || bed_die "purge without --confirm: $(cat "$BED_T/err")"
n_axfr=$(pl_updates | grep -c 'file.test. kind=UPDATE_KIND_COMMITTED method=METHOD_AXFR' || true)
x 0 -c "$API_CONF" purge --confirm file.test
grep -q '^zone file.test purged (transferred anew) on replica api-0$' "$BED_T/out" || bed_die "purge: $(cat "$BED_T/out")"
bed_wait_for 15 sh -c "[ \$('$ZXKAFKA' consume '$ZX_KAFKA_BOOTSTRAP' '$PL_UPD' --count 1000 --timeout 2 --from-beginning --type update 2>/dev/null | grep -c 'file.test. kind=UPDATE_KIND_COMMITTED method=METHOD_AXFR') -gt $n_axfr ]" ||
	bed_die "no AXFR after the purge: $(pl_updates | tail -3)"
bed_wait_for 10 served_like_knot file.test || bed_die "file.test not served like knotd's after purge"
grep -q 'operator_action zone=file.test. action=purge' "$BED_T/api-0.out" || bed_die "no purge log"

bed_log "notify: the downstream target gets another NOTIFY; no targets: 409"
sink=$(bed_port)
bed_port_keep "$sink"
bed_notify_sink "$sink"
echo '{"primaries": ["127.0.0.1@'"$API_KNOT"'"], "notify": ["127.0.0.1@'"$sink"'"]}' >"$BED_T/n1.json"
x 0 -c "$API_CONF" zone add n1.test --json "$BED_T/n1.json"
bed_wait_for 15 grep -q 'qname=n1.test.' "$BED_SINK_LOG" || bed_die "no first NOTIFY of n1.test"
sleep 1
n=$(grep -c 'qname=n1.test.' "$BED_SINK_LOG")
x 0 -c "$API_CONF" notify n1.test
grep -q '^zone n1.test notified downstream on replica api-0$' "$BED_T/out" || bed_die "notify: $(cat "$BED_T/out")"
bed_wait_for 10 sh -c "[ \$(grep -c 'qname=n1.test.' '$BED_SINK_LOG') -gt $n ]" ||
	bed_die "no NOTIFY after xfrctl notify: $(cat "$BED_SINK_LOG")"
x 5 -c "$API_CONF" notify file.test
grep -q '409 Conflict: file.test. has no downstream notify targets' "$BED_T/err" ||
	bed_die "notify without targets: $(cat "$BED_T/err")"
x 1 -c "$API_CONF" expire nowhere.test

bed_log "xfrd.metrics.per-zone-limit: more zones than the limit of 1: no per-zone series"
curl -s "$API_URL/metrics" >"$BED_T/metrics" # not into grep -q: with pipefail its SIGPIPE fails
grep -q '^xfrd_zone_serial{zone="n1.test."}' "$BED_T/metrics" || bed_die "no series of n1.test"
sed -i 's/^  replica: api-0$/  replica: api-0\n  metrics: { per-zone-limit: 1 }/' "$API_CONF"
kill -HUP "$API_PID"
bed_wait_for 10 sh -c "[ \$(grep -c 'reloaded' '$BED_T/api-0.out') -ge 2 ]" || bed_die "no second reload"
curl -s "$API_URL/metrics" >"$BED_T/metrics"
zs='^xfrd_zone_(serial|state|last_success_seconds|expire_seconds)\{'
grep -q '^# TYPE xfrd_zone_serial gauge$' "$BED_T/metrics" && ! grep -Eq "$zs" "$BED_T/metrics" ||
	bed_die "per-zone series past the limit: $(grep -E "$zs" "$BED_T/metrics" | head -3)"

bed_log "--wait without xfrd: exit 8 in the time given"
cp "$BED_T/zx.keep" "$API_CONF"
bed_stop_pid "$API_PID" api-0
rm -f "$BED_T/api-0.pid"
t0=$SECONDS
x 8 -c "$API_CONF" refresh --wait=3 file.test
[ $((SECONDS - t0)) -le 10 ] || bed_die "--wait=3 took $((SECONDS - t0)) s"
grep -q 'no outcome within 3 s' "$BED_T/err" || bed_die "timeout: $(cat "$BED_T/err")"
bed_log "ok"
