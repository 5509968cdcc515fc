#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/integration/notifyd/kafka_down.sh -- answer-after-delivery when Kafka goes away.
# A private broker (so stopping it disturbs no other test): NOTIFYs are answered while
# it runs; stopped, NOTIFYs (UDP and TCP) get no answer, are counted as unanswered,
# and notifyd stays up; started again, a retried NOTIFY is answered and its event is
# in Kafka.
set -euo pipefail
. "$ZX_SRC/tests/integration/notifyd/lib.sh"
nd_setup nd_kafka_down own-kafka

kport=""
for _ in $(seq 50); do
	p=$(bed_port)
	bed_port_keep "$p"
	if bed_port_free $((p + 1)); then
		kport=$p
		break
	fi
done
[ -n "$kport" ] || bed_die "no port pair for the private broker"
# A real broker or nothing: the mock keeps nothing across a restart. (kafka.sh used to
# take a healthy broker for dead right after its start and fall back to the mock.)
command -v java >/dev/null 2>&1 || bed_skip "needs a real broker that survives a restart (no Java)"
[ "${ZX_KAFKA_KIND:-}" = mock ] && bed_skip "needs a real broker (the bed runs the mock)"
kenv=(ZX_BED_DIR="$BED_T/kb" ZX_KAFKA_PORT="$kport" ZX_KAFKA_FORCE=apache)
env "${kenv[@]}" bash "$ZX_SRC/tests/bed/kafka.sh" start >&2 || bed_die "private broker did not start"
bed_on_exit env "${kenv[@]}" bash "$ZX_SRC/tests/bed/kafka.sh" stop
set -a
. "$BED_T/kb/kafka.env"
set +a
nd_topic

nd_config "$BED_T/zx.yaml" <<YAML
kafka: { brokers: "@KAFKA@", requests-topic: "@TOPIC@", delivery-timeout: 2s }
notifyd:
  instance: nd-kafka-down
  listen: [ "127.0.0.1@@PORT@" ]
  http: "127.0.0.1:@HTTP@"
zone-defaults: { primaries: [ "127.0.0.1@53" ], notify-from: [ "127.0.0.0/8" ] }
zones:
  - { name: down.test }
YAML
nd_start "$BED_T/zx.yaml"

# send [--tcp] SERIAL
send()
{
	local serial=${*: -1}
	python3 "$ND_DIR/dnswire.py" notify "${@:1:$#-1}" 127.0.0.1 "$ND_PORT" down.test "$serial"
}

out=$(send 1)
nd_expect "$(nd_decode "${out#answer }")" rcode=0
bed_log "broker up: NOTIFY answered"

env "${kenv[@]}" bash "$ZX_SRC/tests/bed/kafka.sh" stop >&2
for s in 2 3; do
	[ "$(send "$s")" = noanswer ] || bed_die "NOTIFY $s answered while Kafka is down"
	[ "$(send --tcp "$s")" = noanswer ] || bed_die "TCP NOTIFY $s answered while Kafka is down"
done
sleep 2.5 # past the delivery timeout
kill -0 "$ND_PID" || bed_die "notifyd died with Kafka down"
nd_health || bed_die "notifyd /health fails with Kafka down"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$ND_HTTP/ready")
[ "$code" = 503 ] || bed_die "notifyd /ready answers $code with Kafka down, want 503"
un=$(nd_metric 'notifyd_unanswered_total{reason="kafka_timeout"}')
[ "$un" -ge 4 ] || bed_die "unanswered kafka_timeout = $un, want >= 4"
bed_log "broker down: 4 NOTIFYs unanswered and counted, notifyd up"

env "${kenv[@]}" bash "$ZX_SRC/tests/bed/kafka.sh" start >&2 || bed_die "private broker did not restart"
# The primary retries: every 2 s, up to 90 s.
ok=""
for _ in $(seq 45); do
	out=$(send 4)
	if [ "$out" != noanswer ]; then
		ok=$out
		break
	fi
done
[ -n "$ok" ] || bed_die "no answer after the broker came back"
nd_expect "$(nd_decode "${ok#answer }")" rcode=0
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$ND_HTTP/ready")
[ "$code" = 200 ] || bed_die "notifyd /ready answers $code after Kafka came back, want 200"
events=$("$(bed_tool zxkafka)" consume "$ZX_KAFKA_BOOTSTRAP" "$ND_TOPIC" --count 2 --timeout 30 \
	--from-beginning)
echo "$events" >&2
grep -q 'serial=4 ' <<<"$events" || bed_die "the retried NOTIFY's event is not in Kafka"
kill -0 "$ND_PID" || bed_die "notifyd died"
bed_log "PASS"
