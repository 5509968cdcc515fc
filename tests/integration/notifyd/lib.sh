# SPDX-License-Identifier: MIT
# tests/integration/notifyd/lib.sh -- notifyd test helpers on top of tests/bed/lib.sh.
#
#   nd_setup NAME [own-kafka] bed_init, ports from 20000-20999, the bed's Kafka and a
#                            fresh topic (own-kafka: neither; the test brings its broker)
#   nd_config FILE <<EOF     write a config; @KAFKA@ @TOPIC@ @PORT@ @HTTP@ are filled in
#   nd_start FILE            spawn notifyd, wait for /health
#   nd_metric NAME[{LABELS}] print the value of one series (0 when absent)
#   nd_decode HEX            dnswire.py decode
#   nd_expect LINE KEY=VAL.. every KEY=VAL must appear in the decoded LINE
. "$ZX_SRC/tests/bed/lib.sh"

export ZX_BED_PORTS=${ZX_BED_PORTS:-20000 20999}
ND_DIR=$ZX_SRC/tests/integration/notifyd
ND_BIN=$ZX_BUILD/notifyd/notifyd

nd_setup()
{
	bed_init "$1"
	[ -x "$ND_BIN" ] || bed_die "$ND_BIN not built"
	command -v python3 >/dev/null || bed_skip "python3 missing"
	[ "${2:-}" = own-kafka ] || bed_need_kafka
	bed_ports 2 ND_PORT ND_HTTP
	ND_TOPIC="nd.$1.$$.$RANDOM"
	[ "${2:-}" = own-kafka ] || nd_topic
}

# nd_topic: create $ND_TOPIC (2 partitions) on $ZX_KAFKA_BOOTSTRAP.
nd_topic()
{
	"$(bed_tool zxkafka)" create-topic "$ZX_KAFKA_BOOTSTRAP" "$ND_TOPIC" 2 >/dev/null ||
		bed_die "cannot create topic $ND_TOPIC"
}

nd_config()
{
	sed -e "s|@KAFKA@|$ZX_KAFKA_BOOTSTRAP|g" -e "s|@TOPIC@|$ND_TOPIC|g" \
		-e "s|@PORT@|$ND_PORT|g" -e "s|@HTTP@|$ND_HTTP|g" >"$1"
}

nd_health() { curl -sf "http://127.0.0.1:$ND_HTTP/health" | grep -q '^ok'; }

nd_start()
{
	bed_spawn notifyd "$ND_BIN" -c "$1"
	ND_PID=$BED_PID
	bed_wait_for 20 nd_health || { cat "$BED_T/notifyd.out" >&2; bed_die "notifyd did not start"; }
	bed_log "notifyd pid $ND_PID on 127.0.0.1@$ND_PORT, http $ND_HTTP, topic $ND_TOPIC"
}

nd_metric()
{
	local v
	v=$(curl -sf "http://127.0.0.1:$ND_HTTP/metrics" | awk -v n="$1" '$1 == n { print $2; exit }')
	echo "${v:-0}"
}

nd_decode() { python3 "$ND_DIR/dnswire.py" decode "$1"; }

nd_expect()
{
	local line=$1 kv
	shift
	for kv in "$@"; do
		[[ " $line " == *" $kv "* ]] || bed_die "expected $kv in: $line"
	done
}

# nd_events N: the next N events of the topic from the beginning, one a line.
nd_events()
{
	"$(bed_tool zxkafka)" consume "$ZX_KAFKA_BOOTSTRAP" "$ND_TOPIC" --count "$1" --timeout 20 \
		--from-beginning
}
