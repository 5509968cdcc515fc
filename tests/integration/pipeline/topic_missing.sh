#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/integration/pipeline/topic_missing.sh -- issue 11 item 7: a requests topic that
# does not exist is reported as such, naming the topic, not as "Kafka down".
#
# notifyd and xfrd start against the bed's broker with kafka.requests-topic set to a
# topic nobody created:
#   - xfrd logs kafka_topic_missing topic=T and /ready answers 503 "not ready:
#     requests topic T does not exist (...)";
#   - a NOTIFY to notifyd goes unanswered (nothing could store it), notifyd logs
#     kafka_topic_missing naming T and /ready answers 503 "Kafka requests topic
#     missing" with reason=... naming T (it said "Kafka down" before, and after the
#     whole delivery timeout);
# then the topic is created: xfrd gets its partitions and is ready, and notifyd's next
# NOTIFY is answered and /ready is 200 again.
set -euo pipefail
. "$ZX_SRC/tests/bed/lib.sh"
. "$ZX_SRC/tests/integration/pipeline/lib.sh"
ports=${ZX_BED_PORTS:-}
pl_init topic_missing 1
[ -n "$ports" ] && export ZX_BED_PORTS=$ports # pl_init's range is the pipeline tests'
nd=$ZX_BUILD/notifyd/notifyd
[ -x "$nd" ] || bed_skip "$nd not built"
bed_ports 4 nport nhttp xhttp pport
topic="pl.topic_missing.$$.absent"
cat >"$BED_T/zx.yaml" <<YAML
log: { level: info }
kafka:
  brokers: "$ZX_KAFKA_BOOTSTRAP"
  requests-topic: $topic
  updates-topic: $PL_UPD
  group: $PL_GROUP
  delivery-timeout: 10s
  settings: { "session.timeout.ms": "6000", "heartbeat.interval.ms": "500",
              "topic.metadata.refresh.interval.ms": "1000" }
notifyd:
  listen: [ "127.0.0.1@$nport" ]
  http: "127.0.0.1:$nhttp"
xfrd:
  replica: r1
  store: $BED_T/store
  listen: []
  http: "127.0.0.1:$xhttp"
zones: [ { name: tm.test, primaries: [ "127.0.0.1@$pport" ], notify-from: [ "127.0.0.0/8" ] } ]
YAML
bed_on_exit "'$ZXKAFKA' delete-topic '$ZX_KAFKA_BOOTSTRAP' '$topic'"
pl_xfrd x "$BED_T/zx.yaml"
bed_spawn notifyd "$nd" -c "$BED_T/zx.yaml"
bed_wait_for 20 curl -fs "http://127.0.0.1:$nhttp/health" || bed_die "notifyd did not start"

# ---- xfrd ------------------------------------------------------------------------------
bed_wait_for 30 grep -q "event=kafka_topic_missing topic=$topic " "$BED_T/x.out" ||
	bed_die "xfrd did not say the topic is missing: $(tail -n 5 "$BED_T/x.out")"
r=$(curl -s -w ' %{http_code}' "http://127.0.0.1:$xhttp/ready" | tr -d '\n')
echo "$r" | grep -q "^not ready: requests topic $topic does not exist (.*) 503$" ||
	bed_die "xfrd /ready: $r"
bed_log "xfrd /ready: $r"

# ---- notifyd ---------------------------------------------------------------------------
kdig @127.0.0.1 -p "$nport" +timeout=2 +retry=0 tm.test NOTIFY=5 >"$BED_T/kdig1" 2>&1 || true
grep -q 'status: NOERROR' "$BED_T/kdig1" && bed_die "a NOTIFY nothing could store was answered"
grep -q "event=kafka_topic_missing client=producer reason=\"requests topic $topic does not exist" "$BED_T/notifyd.out" ||
	bed_die "notifyd did not say the topic is missing: $(tail -n 5 "$BED_T/notifyd.out")"
r=$(curl -s -i "http://127.0.0.1:$nhttp/ready" | tr -d '\r')
echo "$r" | grep -q '^HTTP/1.1 503 Kafka requests topic missing$' || bed_die "notifyd /ready: $r"
echo "$r" | grep -q "kafka=topic-missing .*reason=\"requests topic $topic does not exist" ||
	bed_die "notifyd /ready body: $r"
bed_log "notifyd /ready: $(echo "$r" | tail -1)"

# ---- the topic appears -----------------------------------------------------------------
"$ZXKAFKA" create-topic "$ZX_KAFKA_BOOTSTRAP" "$topic" 1 >/dev/null || bed_die "create topic"
bed_wait_for 60 sh -c "curl -fs http://127.0.0.1:$xhttp/ready | grep -q '^ready'" ||
	bed_die "xfrd not ready once the topic exists: $(curl -s "http://127.0.0.1:$xhttp/ready")"
answered()
{
	kdig @127.0.0.1 -p "$nport" +timeout=3 +retry=0 tm.test NOTIFY=6 2>&1 | grep -q 'status: NOERROR'
}
bed_wait_for 60 answered || bed_die "notifyd does not answer once the topic exists"
bed_wait_for 20 curl -fs "http://127.0.0.1:$nhttp/ready" || bed_die "notifyd not ready again"
bed_log "the topic created: xfrd ready, notifyd answers and is ready"
bed_log PASS
