#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/integration/operator/xfrctl_kafka.sh -- `xfrctl refresh` and `xfrctl
# retransfer` against the bed's Kafka: the TransferRequest lands in
# kafka.requests-topic keyed by the zone's canonical name, in the partition
# Java's murmur2 partitioner gives (the one notifyd and xfrd use), with origin
# OPERATOR / RETRANSFER; the printed partition and offset are the stored ones;
# --json; exit codes 1 (zone not in the configuration), 2 (usage), 3 (bad
# configuration), 4 (Kafka down, or the topic missing) within the bound.
set -euo pipefail
export ZX_BED_PORTS=${ZX_BED_PORTS:-26200 26999}
. "$ZX_SRC/tests/bed/lib.sh"
bed_init xfrctl_kafka
bed_need_kafka
xfrctl=$ZX_BUILD/xfrd/xfrctl
[ -x "$xfrctl" ] || bed_skip "$xfrctl not built"
zxkafka=$(bed_tool zxkafka)
topic="ops.xfrctl.$$"
parts=8
"$zxkafka" create-topic "$ZX_KAFKA_BOOTSTRAP" "$topic" "$parts" >/dev/null || bed_die "create $topic"
bed_on_exit "'$zxkafka' delete-topic '$ZX_KAFKA_BOOTSTRAP' '$topic'"
down_port=$(bed_port)
bed_port_keep "$down_port"

# config FILE BROKERS TOPIC: three zones, a short delivery timeout.
config()
{
	cat >"$1" <<YAML
kafka: { brokers: "$2", requests-topic: $3, delivery-timeout: 2s }
xfrd: { store: $BED_T/store }
zones:
  - { name: Example.COM, primaries: [ "127.0.0.1@53" ] }
  - { name: a.example.net., primaries: [ "127.0.0.1@53" ] }
  - { name: zz.test, primaries: [ "127.0.0.1@53" ] }
YAML
}
config "$BED_T/zx.yaml" "$ZX_KAFKA_BOOTSTRAP" "$topic"
config "$BED_T/down.yaml" "127.0.0.1:$down_port" "$topic"
config "$BED_T/notopic.yaml" "$ZX_KAFKA_BOOTSTRAP" "ops.absent.$$"

# murmur2 KEY: Java's partition of KEY among $parts (murmur2, positive, modulo).
murmur2()
{
	python3 - "$1" "$parts" <<'PY'
import sys
data, n = sys.argv[1].encode(), int(sys.argv[2])
m, r, M = 0x5bd1e995, 24, 0xffffffff
h = (0x9747b28c ^ len(data)) & M
i = 0
while len(data) - i >= 4:
    k = int.from_bytes(data[i:i + 4], "little")
    k = (k * m) & M; k ^= k >> r; k = (k * m) & M
    h = (h * m) & M; h ^= k
    i += 4
rest = data[i:]
if len(rest) == 3: h ^= rest[2] << 16
if len(rest) >= 2: h ^= rest[1] << 8
if len(rest) >= 1: h ^= rest[0]; h = (h * m) & M
h ^= h >> 13; h = (h * m) & M; h ^= h >> 15
print((h & 0x7fffffff) % n)
PY
}

# expect RC CMD...: run CMD, stdout in $BED_T/out, stderr in $BED_T/err.
expect()
{
	local want=$1 rc=0
	shift
	"$@" >"$BED_T/out" 2>"$BED_T/err" || rc=$?
	[ "$rc" = "$want" ] || bed_die "$* exited $rc, want $want: $(cat "$BED_T/out" "$BED_T/err")"
}

# refresh and retransfer of each zone (any case, with or without the dot): the
# printed partition is murmur2's, the event is in the topic at the printed offset.
n=0
for z in example.com EXAMPLE.com. a.example.net zz.test.; do
	for cmd in refresh retransfer; do
		expect 0 "$xfrctl" -c "$BED_T/zx.yaml" "$cmd" "$z"
		canon=$(tr 'A-Z' 'a-z' <<<"${z%.}.")
		origin=operator
		[ "$cmd" = retransfer ] && origin=retransfer
		line=$(cat "$BED_T/out")
		want_p=$(murmur2 "$canon")
		[[ "$line" =~ ^$cmd\ requested:\ zone=$canon\ origin=$origin\ topic=$topic\ partition=$want_p\ offset=[0-9]+$ ]] ||
			bed_die "xfrctl $cmd $z printed: $line (want partition $want_p)"
		echo "$want_p ${line##*offset=} $canon $origin" >>"$BED_T/sent"
		n=$((n + 1))
	done
done
bed_log "xfrctl published $n requests"

"$zxkafka" consume "$ZX_KAFKA_BOOTSTRAP" "$topic" --count "$n" --timeout 30 --from-beginning \
	--type request >"$BED_T/consumed" || bed_die "consume: $(cat "$BED_T/consumed")"
while read -r p o canon origin; do
	want="partition=$p offset=$o key=$canon zone=$canon origin=ORIGIN_${origin^^}"
	grep -qxF "$want" "$BED_T/consumed" || bed_die "not in the topic: $want; topic has:
$(cat "$BED_T/consumed")"
done <"$BED_T/sent"
[ "$(wc -l <"$BED_T/consumed")" = "$n" ] || bed_die "topic holds $(wc -l <"$BED_T/consumed") events"
bed_log "every request is in the topic at the printed partition and offset, key = zone"

# --json
expect 0 "$xfrctl" -c "$BED_T/zx.yaml" --json retransfer zz.test
python3 - "$BED_T/out" "$topic" "$(murmur2 zz.test.)" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert j["zone"] == "zz.test." and j["command"] == "retransfer", j
assert j["origin"] == "retransfer" and j["topic"] == sys.argv[2], j
assert j["partition"] == int(sys.argv[3]) and j["offset"] >= 0, j
PY
bed_log "--json: ok"

# Exit codes.
expect 1 "$xfrctl" -c "$BED_T/zx.yaml" refresh other.test
grep -q 'not in the configuration' "$BED_T/err" || bed_die "exit 1 message: $(cat "$BED_T/err")"
expect 2 "$xfrctl" -c "$BED_T/zx.yaml" refresh
expect 2 "$xfrctl" -c "$BED_T/zx.yaml" refresh a b
expect 2 "$xfrctl" -c "$BED_T/zx.yaml" refresh 'bad..name'
expect 2 "$xfrctl" --store "$BED_T/store" refresh example.com
echo 'kafka: { brokerz: x }' >"$BED_T/bad.yaml"
expect 3 "$xfrctl" -c "$BED_T/bad.yaml" refresh example.com
grep -q 'bad.yaml:1:' "$BED_T/err" || bed_die "exit 3 message: $(cat "$BED_T/err")"
expect 3 "$xfrctl" -c "$BED_T/missing.yaml" refresh example.com
t0=$SECONDS
expect 4 "$xfrctl" -c "$BED_T/down.yaml" refresh example.com
[ $((SECONDS - t0)) -le 10 ] || bed_die "Kafka down: took $((SECONDS - t0)) s"
grep -q 'did not store the request' "$BED_T/err" || bed_die "exit 4 message: $(cat "$BED_T/err")"
bed_log "broker down: exit 4 in $((SECONDS - t0)) s: $(cat "$BED_T/err")"
if [ "${ZX_KAFKA_KIND:-}" = apache ]; then
	expect 4 "$xfrctl" -c "$BED_T/notopic.yaml" refresh example.com
	grep -q 'Unknown topic' "$BED_T/err" || bed_die "missing topic message: $(cat "$BED_T/err")"
	bed_log "missing topic: exit 4: $(cat "$BED_T/err")"
fi
bed_log "exit codes 1, 2, 3, 4: ok"
