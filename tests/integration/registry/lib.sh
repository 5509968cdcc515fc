# SPDX-License-Identifier: MIT
# tests/integration/registry/lib.sh -- the zone registry's tests, on top of the pipeline's
# helpers (tests/integration/pipeline/lib.sh). Source after tests/bed/lib.sh:
#
#   rg_init NAME [PARTITIONS]   pl_init, plus a compacted registry topic $RG_TOPIC
#   rg_config FILE NAME HTTP DNS [PURGE]  an xfrd + notifyd config with the registry on,
#                               no file zones (add them with RG_FILE_ZONES="z@port ..."),
#                               RG_XFRD_EXTRA: more lines of the xfrd section
#   rg_put JSON...              registry records (zxkafka produce-zones), one per argument
#   rg_rm ZONE...               tombstones
#   rg_zone NAME PORT [EXTRA]   the JSON of a zone with one primary on 127.0.0.1@PORT
#   rg_state REPLICA ZONE       "serial state" of ZONE in that replica's store ("" absent)
#   rg_soa PORT ZONE            the rcode and serial xfrd's endpoint answers for SOA
. "$ZX_SRC/tests/integration/pipeline/lib.sh"

rg_init()
{
	local ports=${ZX_BED_PORTS:-}
	pl_init "$@"
	# the pipeline tests keep to their own range; ours honours the runner's
	[ -n "$ports" ] && export ZX_BED_PORTS="$ports"
	RG_TOPIC="pl.$1.$$.zones"
	"$ZXKAFKA" create-topic "$ZX_KAFKA_BOOTSTRAP" "$RG_TOPIC" 3 --compact >/dev/null ||
		bed_die "create topic $RG_TOPIC"
	bed_on_exit "$ZXKAFKA" delete-topic "$ZX_KAFKA_BOOTSTRAP" "$RG_TOPIC"
	ND_BIN=$ZX_BUILD/notifyd/notifyd
}

rg_config()
{
	local file=$1 name=$2 http=$3 dns=$4 purge=${5:-1d} z
	{
		echo "log: { level: info }"
		echo "kafka:"
		echo "  brokers: \"$ZX_KAFKA_BOOTSTRAP\""
		echo "  requests-topic: $PL_REQ"
		echo "  updates-topic: $PL_UPD"
		echo "  group: $PL_GROUP"
		echo "  settings: { \"session.timeout.ms\": \"6000\", \"heartbeat.interval.ms\": \"500\" }"
		echo "registry: { topic: $RG_TOPIC, purge-after: $purge }"
		echo "${RG_KEYS:-}"
		echo "notifyd:"
		echo "  instance: nd-$name"
		echo "  listen: [ \"127.0.0.1@${RG_ND_PORT:-0}\" ]"
		echo "  http: \"127.0.0.1:${RG_ND_HTTP:-0}\""
		echo "xfrd:"
		echo "  replica: $name"
		echo "  store: $BED_T/$name.lmdb"
		echo "  store-size: 256M"
		echo "  listen: [ \"127.0.0.1@$dns\" ]"
		echo "  http: \"127.0.0.1:$http\""
		echo "  timeouts: $PL_TIMEOUTS"
		echo "  serve: { allow: [ 127.0.0.0/8 ] }"
		[ -n "${RG_XFRD_EXTRA:-}" ] && echo "$RG_XFRD_EXTRA"
		echo "zones:"
		for z in ${RG_FILE_ZONES:-}; do
			echo "  - { name: ${z%@*}, primaries: [ \"127.0.0.1@${z#*@}\" ] }"
		done
		if [ -z "${RG_FILE_ZONES:-}" ]; then echo "  []"; fi
	} >"$file"
}

rg_zone()
{
	echo "{\"name\": \"$1\", \"primaries\": [\"127.0.0.1@$2\"]${3:+, $3}}"
}

rg_put()
{
	printf '%s\n' "$@" | "$ZXKAFKA" produce-zones "$ZX_KAFKA_BOOTSTRAP" "$RG_TOPIC" - >/dev/null ||
		bed_die "registry write failed"
}

rg_rm()
{
	local z
	for z in "$@"; do echo "-$z"; done |
		"$ZXKAFKA" produce-zones "$ZX_KAFKA_BOOTSTRAP" "$RG_TOPIC" - >/dev/null ||
		bed_die "registry tombstone failed"
}

rg_state()
{
	"$PLTOOL" zones "$BED_T/$1.lmdb" 2>/dev/null | awk -v z="$2" '$1 == z { print $2, $3 }'
}

rg_soa()
{
	kdig @127.0.0.1 -p "$1" +timeout=2 +retry=1 SOA "$2" 2>/dev/null |
		awk '/status:/ { gsub(";", "", $6); rc = $6 } $4 == "SOA" && !s { s = $7 } END { print rc, s }'
}
