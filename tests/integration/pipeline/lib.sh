# SPDX-License-Identifier: MIT
# tests/integration/pipeline/lib.sh -- shared setup of the xfrd pipeline tests.
# Source after tests/bed/lib.sh:
#
#   pl_init NAME [PARTITIONS]   scratch dir, Kafka (or skip), unique topics and group:
#                               $PL_REQ $PL_UPD $PL_GROUP, tools $PLTOOL $ZXKAFKA $XFRD
#   pl_knot PORT ZONE...        one knotd ($PL_KNOT_NAME, default knot) serving every ZONE (unsigned transfers from
#                               127.0.0.0/8), zone files $BED_T/knot/ZONE.db, serial 1
#   pl_bump ZONE...             serial +1 in the zone files, one reload for all
#   pl_serial ZONE              the serial knotd serves now
#   pl_config FILE NAME HTTP PRIMARY_PORT [EXTRA_XFRD_YAML] -- ZONE...
#                               an xfrd config: replica NAME, store $BED_T/NAME.lmdb
#   pl_xfrd NAME CONFIG         start xfrd --pipeline (log $BED_T/NAME.out); sets BED_PID
#   pl_store_serials NAME       "zone serial state" of replica NAME's store
#   pl_committed_all            0 when the group's committed offset = high on every partition
#   pl_updates                  every ZoneUpdated in $PL_UPD so far, one a line

pl_init()
{
	bed_init "$1"
	export ZX_BED_PORTS="25000 25999"
	bed_need_kafka
	PLTOOL=$(bed_tool ../integration/pipeline/pltool)
	ZXKAFKA=$(bed_tool zxkafka)
	XFRD=$ZX_BUILD/xfrd/xfrd
	[ -x "$XFRD" ] || bed_die "$XFRD not built"
	PL_REQ="pl.$1.$$.req"
	PL_UPD="pl.$1.$$.upd"
	PL_GROUP="pl.$1.$$.group"
	PL_PARTS=${2:-4}
	"$ZXKAFKA" create-topic "$ZX_KAFKA_BOOTSTRAP" "$PL_REQ" "$PL_PARTS" >/dev/null ||
		bed_die "create topic $PL_REQ"
	"$ZXKAFKA" create-topic "$ZX_KAFKA_BOOTSTRAP" "$PL_UPD" 1 >/dev/null ||
		bed_die "create topic $PL_UPD"
	bed_on_exit pl_cleanup
	export ZX_STORE_SYNC=none
}

# pl_zonefile ZONE SERIAL REFRESH RETRY EXPIRE: a small zone on stdout.
pl_zonefile()
{
	local z=$1 s=$2 i
	echo "\$ORIGIN $z."
	echo "\$TTL 300"
	echo "@ 300 IN SOA ns.$z. hostmaster.$z. $s ${3:-3600} ${4:-600} ${5:-604800} 60"
	echo "@ 300 IN NS ns.$z."
	echo "ns 300 IN A 192.0.2.1"
	for ((i = 0; i < 5; i++)); do
		echo "h$i 300 IN A 192.0.2.$((10 + i))"
	done
	echo "ver 300 IN TXT \"$s\""
}

# At exit: stop the xfrds first (a consumer whose topic vanished is slow to close),
# then delete the topics.
pl_cleanup()
{
	local f
	for f in "$BED_T"/*.pid; do
		[ -f "$f" ] && bed_stop_pid "$(cat "$f")" "$(basename "$f" .pid)"
	done
	"$ZXKAFKA" delete-topic "$ZX_KAFKA_BOOTSTRAP" "$PL_REQ" >/dev/null 2>&1
	"$ZXKAFKA" delete-topic "$ZX_KAFKA_BOOTSTRAP" "$PL_UPD" >/dev/null 2>&1
	# a test's own replica directory (kafka.replicas-topic: $PL_REQ.replicas), if any
	"$ZXKAFKA" delete-topic "$ZX_KAFKA_BOOTSTRAP" "$PL_REQ.replicas" >/dev/null 2>&1
}

PL_KNOT_TIMERS="3600 600 604800"
PL_SETTINGS=""   # more kafka.settings: ', "k": "v"'
PL_TIMEOUTS="{ connect: 1s, read: 2s, transfer: 5s, soa: 1s }"

pl_knot()
{
	local port=$1 d=$BED_T/${PL_KNOT_NAME:-knot} z
	shift
	mkdir -p "$d/db"
	PL_KNOT_DIR=$d
	PL_KNOT_CTL=$(bed_sock "knot-$port.sock")
	{
		echo "server:"
		echo "    rundir: \"$d\""
		echo "    listen: 127.0.0.1@$port"
		echo "    udp-workers: ${PL_KNOT_UDP_WORKERS:-1}"
		echo "    tcp-workers: ${PL_KNOT_TCP_WORKERS:-2}"
		echo "    background-workers: 1"
		echo "control:"
		echo "    listen: \"$PL_KNOT_CTL\""
		echo "database:"
		echo "    storage: \"$d/db\""
		echo "log:"
		echo "  - target: \"$d/knotd.log\""
		echo "    any: info"
		echo "acl:"
		echo "  - id: xfr"
		echo "    address: [127.0.0.0/8]"
		echo "    action: transfer"
		echo "template:"
		echo "  - id: default"
		echo "    storage: \"$d\""
		echo "    zonefile-load: difference"
		echo "    journal-content: changes"
		echo "    zonefile-sync: -1"
		echo "    semantic-checks: off"
		echo "    acl: xfr"
		echo "zone:"
		for z in "$@"; do
			echo "  - domain: $z"
			echo "    file: \"$d/$z.db\""
		done
	} >"$d/knot.conf"
	for z in "$@"; do
		# shellcheck disable=SC2086
		pl_zonefile "$z" 1 $PL_KNOT_TIMERS >"$d/$z.db"
	done
	bed_spawn knotd knotd -c "$d/knot.conf"
	PL_KNOT_PID=$BED_PID
	PL_KNOT_PORT=$port
	bed_wait_for 20 kdig @127.0.0.1 -p "$port" +short +timeout=1 +retry=0 SOA "$1" ||
		bed_die "knotd did not answer"
	local last=${*: -1}
	bed_wait_for 20 sh -c "kdig @127.0.0.1 -p $port +short +timeout=1 +retry=0 SOA $last | grep -q ." ||
		bed_die "knotd did not load $last"
}

pl_serial()
{
	kdig @127.0.0.1 -p "$PL_KNOT_PORT" +short +timeout=1 +retry=1 SOA "$1" | awk '{print $3}'
}

# pl_bump ZONE...: serial+1 and a changed TXT, then reload those zones.
pl_bump()
{
	local z f s
	for z in "$@"; do
		f=$PL_KNOT_DIR/$z.db
		s=$(awk '$4 == "SOA" {print $7}' "$f")
		# shellcheck disable=SC2086
		pl_zonefile "$z" $((s + 1)) $PL_KNOT_TIMERS >"$f"
	done
	knotc -s "$PL_KNOT_CTL" zone-reload "$@" >/dev/null 2>&1 ||
		bed_die "knotc zone-reload failed"
	# a primary NOTIFYs once it serves the new serial: wait for that too
	for z in "$@"; do
		s=$(awk '$4 == "SOA" {print $7}' "$PL_KNOT_DIR/$z.db")
		bed_wait_for 10 sh -c "kdig @127.0.0.1 -p $PL_KNOT_PORT +short +timeout=1 +retry=0 SOA $z | grep -q ' $s '" ||
			bed_die "knotd does not serve $z serial $s"
	done
}

pl_config()
{
	local file=$1 name=$2 http=$3 pport=$4 extra=${5:-} z
	shift 5
	[ "${1:-}" = -- ] && shift
	{
		echo "log: { level: info }"
		echo "kafka:"
		echo "  brokers: \"$ZX_KAFKA_BOOTSTRAP\""
		echo "  requests-topic: $PL_REQ"
		echo "  updates-topic: $PL_UPD"
		echo "  group: $PL_GROUP"
		echo "  settings: { \"session.timeout.ms\": \"6000\", \"heartbeat.interval.ms\": \"500\"$PL_SETTINGS }"
		echo "xfrd:"
		echo "  replica: $name"
		echo "  store: $BED_T/$name.lmdb"
		echo "  store-size: 256M"
		echo "  listen: []"
		echo "  http: \"127.0.0.1:$http\""
		echo "  timeouts: $PL_TIMEOUTS"
		[ -n "$extra" ] && echo "$extra"
		echo "zones:"
		for z in "$@"; do
			echo "  - { name: $z, primaries: [ \"127.0.0.1@$pport\" ] }"
		done
	} >"$file"
}

pl_xfrd()
{
	local name=$1 conf=$2
	bed_spawn "$name" "$XFRD" -c "$conf" --pipeline
	echo "$BED_PID" >"$BED_T/$name.pid"
}

pl_store_serials()
{
	"$PLTOOL" zones "$BED_T/$1.lmdb"
}

pl_committed_all()
{
	"$ZXKAFKA" offsets "$ZX_KAFKA_BOOTSTRAP" "$PL_GROUP" "$PL_REQ" |
		awk '{split($2,c,"="); split($4,h,"="); if (c[2] != h[2] && h[2] != 0) bad++} END {exit bad > 0}'
}

pl_updates()
{
	"$ZXKAFKA" consume "$ZX_KAFKA_BOOTSTRAP" "$PL_UPD" --count 1000000 --timeout 3 \
		--from-beginning --type update 2>/dev/null || true
}
