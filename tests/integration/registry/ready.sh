#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/integration/registry/ready.sh -- issue 14: notifyd and xfrd are not ready until
# the registry was read to its end (a NOTIFY for a registry zone would be refused, a
# zone not held), and say why; both turn ready once it is.
#
# Both start with registry.topic naming a topic nobody created: notifyd's /ready is
# 503 "registry not read yet" and its body names the registry's state
# (registry="registry topic T missing"), its /health 200; xfrd's /ready is 503
# "not ready: registry topic T missing". The topic is created with one zone in it:
# both turn ready, and notifyd accepts a NOTIFY for that zone.
set -euo pipefail
. "$ZX_SRC/tests/bed/lib.sh"
. "$ZX_SRC/tests/integration/registry/lib.sh"
rg_init rg_ready 1
[ -x "$ND_BIN" ] || bed_die "$ND_BIN not built"
bed_ports 4 kport xhttp RG_ND_PORT RG_ND_HTTP
pl_knot "$kport" r.rg.test
RG_TOPIC="$RG_TOPIC.late" # created below, after the daemons started
bed_on_exit "'$ZXKAFKA' delete-topic '$ZX_KAFKA_BOOTSTRAP' '$RG_TOPIC' >/dev/null 2>&1"
conf=$BED_T/zx.yaml
rg_config "$conf" x "$xhttp" 0
sed -i 's/^  listen: \[ "127.0.0.1@0" \]$/  listen: []/' "$conf" # xfrd: no DNS endpoint
pl_xfrd x "$conf"
bed_spawn notifyd "$ND_BIN" -c "$conf"
echo "$BED_PID" >"$BED_T/notifyd.pid"
bed_wait_for 20 curl -fs "http://127.0.0.1:$RG_ND_HTTP/health" || bed_die "notifyd did not start"

nd_missing()
{
	curl -s -i "http://127.0.0.1:$RG_ND_HTTP/ready" | tr -d '\r' >"$BED_T/nd.ready"
	grep -q '^HTTP/1.1 503 registry not read yet$' "$BED_T/nd.ready" &&
		grep -q "^not-ready kafka=up .* registry=\"registry topic $RG_TOPIC missing\"$" "$BED_T/nd.ready"
}
bed_wait_for 30 nd_missing || bed_die "notifyd /ready before the registry: $(cat "$BED_T/nd.ready")"
bed_log "notifyd: $(tail -n 1 "$BED_T/nd.ready")"
curl -fs "http://127.0.0.1:$RG_ND_HTTP/health" >/dev/null || bed_die "notifyd /health fails"
x_missing()
{
	curl -s -w " %{http_code}" "http://127.0.0.1:$xhttp/ready" | tr -d "\n" |
		grep -q "^not ready: registry topic $RG_TOPIC missing 503$"
}
bed_wait_for 30 x_missing || bed_die "xfrd /ready before the registry: $(curl -s "http://127.0.0.1:$xhttp/ready")"
sleep 3 # still not ready a while later
nd_missing || bed_die "notifyd turned ready with no registry: $(cat "$BED_T/nd.ready")"
x_missing || bed_die "xfrd turned ready with no registry"

"$ZXKAFKA" create-topic "$ZX_KAFKA_BOOTSTRAP" "$RG_TOPIC" 1 --compact >/dev/null ||
	bed_die "create topic $RG_TOPIC"
rg_put "$(rg_zone r.rg.test "$kport")"
bed_wait_for 60 curl -fs "http://127.0.0.1:$RG_ND_HTTP/ready" ||
	bed_die "notifyd not ready once the registry exists: $(curl -s "http://127.0.0.1:$RG_ND_HTTP/ready")"
r=$(curl -s "http://127.0.0.1:$RG_ND_HTTP/ready")
echo "$r" | grep -q '^ok kafka=up pending=[0-9]* tcp=[0-9]*$' || bed_die "notifyd /ready body: $r"
bed_wait_for 60 sh -c "curl -fs http://127.0.0.1:$xhttp/ready | grep -q '^ready'" ||
	bed_die "xfrd not ready once the registry exists: $(curl -s "http://127.0.0.1:$xhttp/ready")"
accepted()
{
	kdig @127.0.0.1 -p "$RG_ND_PORT" +timeout=3 +retry=0 r.rg.test NOTIFY=2 2>&1 | grep -q 'status: NOERROR'
}
bed_wait_for 30 accepted || bed_die "notifyd does not accept a NOTIFY for the registry's zone"
bed_log "registry created: notifyd and xfrd ready, the registry's zone accepted"
bed_log PASS
