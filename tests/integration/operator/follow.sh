#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/integration/operator/follow.sh -- zx-follow, the reference zone builder,
# against xfrd's DNS endpoint (serve_tool serving a store written through the
# zdb API) and the bed's Kafka:
#   - at start it fetches both zones by AXFR (one of them needs TSIG: the key
#     comes from the zone's serve.keys in the configuration); files equal the
#     served zones;
#   - a ZoneUpdated event (zxkafka produce-update) after a change in the store:
#     fetched by IXFR, the file equals the served zone; then a chain of 10
#     changes, each announced by an event and followed by IXFR;
#   - an event for a serial it holds, or for a zone it does not follow, fetches
#     nothing; no temporary files are left; SIGTERM stops it with exit 0;
#   - --store: the same zone read from the store's journal (IXFR from an older
#     file) and, without a file, as a whole; --once exit codes.
set -euo pipefail
export ZX_BED_PORTS=${ZX_BED_PORTS:-26200 26999}
. "$ZX_SRC/tests/bed/lib.sh"
bed_init follow
bed_need_kafka
follow=$ZX_BUILD/xfrd/zx-follow
tool=$ZX_BUILD/tests/integration/serve/serve_tool
for b in "$follow" "$tool"; do
	[ -x "$b" ] || bed_skip "$b not built"
done
for c in kdig ldns-read-zone; do
	command -v "$c" >/dev/null || bed_skip "$c missing"
done
zonegen=$(bed_tool zonegen)
zxkafka=$(bed_tool zxkafka)
bed_ports 2 port port2
topic="ops.follow.$$"
"$zxkafka" create-topic "$ZX_KAFKA_BOOTSTRAP" "$topic" 2 >/dev/null || bed_die "create $topic"
bed_on_exit "'$zxkafka' delete-topic '$ZX_KAFKA_BOOTSTRAP' '$topic'"

zone=follow.test
szone=signed.follow.test
key=$(head -c 32 /dev/urandom | base64)
store=$BED_T/store
out=$BED_T/out
mkdir -p "$out"

# gen ZONE SERIAL: the base zone (serial 1) or the edit of SERIAL.
gen()
{
	local z=$1 s=$2
	if [ "$s" = 1 ]; then
		"$zonegen" -z "$z" -n 2000 -s 11 -S 1 -o "$BED_T/$z.1.db"
	else
		"$zonegen" -z "$z" -n 2000 -s 11 -S "$s" --change 5 --delete 3 --add 4 \
			--edit-seed "$s" -o "$BED_T/$z.$s.db"
	fi
}
for z in "$zone" "$szone"; do
	gen "$z" 1
	"$tool" load "$store" "$BED_T/$z.1.db" || bed_die "load $z"
done

cat >"$BED_T/zx.yaml" <<YAML
kafka: { brokers: "$ZX_KAFKA_BOOTSTRAP", updates-topic: $topic }
keys:
  - { name: zx-key, algorithm: hmac-sha256, secret: "$key" }
xfrd:
  store: $store
  listen: [ "127.0.0.1@$port" ]
  serve: { allow: [ "127.0.0.1/32" ] }
zones:
  - { name: $zone, primaries: [ "192.0.2.1@53" ] }
  - { name: $szone, primaries: [ "192.0.2.1@53" ], serve: { allow: [ "127.0.0.1/32" ], keys: [ zx-key ] } }
YAML
bed_spawn serve_tool "$tool" serve "$BED_T/zx.yaml"
bed_wait_for 10 kdig @127.0.0.1 -p "$port" +time=1 +retry=0 SOA "$zone" ||
	bed_die "serve_tool does not answer: $(cat "$BED_T/serve_tool.out")"

file_serial() { awk '$4 == "SOA" { print $7; exit }' "$out/${1%.}.zone" 2>/dev/null; }
has_serial() { [ "$(file_serial "$1")" = "$2" ]; }
# same ZONE: the file equals the endpoint's AXFR (canonical text).
same()
{
	local k=()
	[ "$1" = "$szone" ] && k=("hmac-sha256:zx-key:$key")
	bed_axfr 127.0.0.1 "$port" "$1" "${k[@]}" >"$BED_T/served" || bed_die "AXFR $1"
	bed_zone_canon "$out/$1.zone" >"$BED_T/followed"
	bed_zone_compare "$BED_T/served" "$BED_T/followed"
}

bed_spawn zx-follow "$follow" -c "$BED_T/zx.yaml" -g "ops.follow.$$" -d "$out" \
	-X fetch.wait.max.ms=50 --timeout 5
follow_pid=$BED_PID
log=$BED_T/zx-follow.out
bed_wait_for 20 has_serial "$zone" 1 || bed_die "no $zone at start: $(tail -5 "$log")"
bed_wait_for 20 has_serial "$szone" 1 || bed_die "no $szone at start: $(tail -5 "$log")"
same "$zone" || bed_die "$zone differs after the start"
same "$szone" || bed_die "$szone (TSIG) differs after the start"
grep -q "zone_followed zone=$szone. serial_from=0 serial_to=1 method=axfr source=dns" "$log" ||
	bed_die "start: $(cat "$log")"
bed_log "start: both zones fetched by AXFR (one with TSIG), files equal the served zones"
bed_wait_for 20 grep -q 'event=following' "$log" || bed_die "not following: $(tail -5 "$log")"

# change Z FROM TO: one IXFR in the store, announced by an event; followed by IXFR.
change()
{
	local z=$1 from=$2 to=$3
	gen "$z" "$to"
	"$tool" diff "$store" "$BED_T/$z.$from.db" "$BED_T/$z.$to.db" || bed_die "diff $z $to"
	"$zxkafka" produce-update "$ZX_KAFKA_BOOTSTRAP" "$topic" "$z" "$to" >/dev/null ||
		bed_die "produce-update $z $to"
	bed_wait_for 20 has_serial "$z" "$to" ||
		bed_die "$z did not reach $to: $(tail -5 "$log")"
	same "$z" || bed_die "$z differs at serial $to"
	grep -q "zone_followed zone=$z. serial_from=$from serial_to=$to method=ixfr source=dns .*trigger=event" "$log" ||
		bed_die "$z $from -> $to not by IXFR on the event: $(tail -3 "$log")"
}
change "$zone" 1 2
bed_log "event: $zone 1 -> 2 by IXFR, file equals the served zone"
prev=2
for s in $(seq 3 12); do
	change "$zone" "$prev" "$s"
	prev=$s
done
bed_log "a chain of 10 IXFR changes followed (serial 12)"
change "$szone" 1 2
bed_log "event: $szone 1 -> 2 by IXFR with TSIG"

# An event for a serial held, and one for a zone not followed: nothing fetched.
n=$(grep -c 'event=zone_followed' "$log")
"$zxkafka" produce-update "$ZX_KAFKA_BOOTSTRAP" "$topic" "$zone" 12 >/dev/null
"$zxkafka" produce-update "$ZX_KAFKA_BOOTSTRAP" "$topic" other.test 7 >/dev/null
gen "$zone" 13
"$tool" diff "$store" "$BED_T/$zone.12.db" "$BED_T/$zone.13.db" || bed_die "diff 13"
"$zxkafka" produce-update "$ZX_KAFKA_BOOTSTRAP" "$topic" "$zone" 13 >/dev/null
bed_wait_for 20 has_serial "$zone" 13 || bed_die "no serial 13"
[ "$(grep -c 'event=zone_followed' "$log")" = $((n + 1)) ] ||
	bed_die "events for a held serial or another zone fetched: $(tail -4 "$log")"
[ ! -e "$out/other.test.zone" ] || bed_die "a zone not followed was written"
compgen -G "$out/*.tmp.*" >/dev/null && bed_die "temporary files left: $(echo "$out"/*)"
bed_log "held serial and unknown zone: nothing fetched; no temporary files"

kill -TERM "$follow_pid"
rc=0
for _ in $(seq 100); do
	kill -0 "$follow_pid" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$follow_pid" 2>/dev/null && bed_die "zx-follow ignored SIGTERM"
wait "$follow_pid" 2>/dev/null || rc=$?
bed_untrack "$follow_pid"
[ "$rc" = 0 ] || bed_die "zx-follow exited $rc after SIGTERM: $(tail -3 "$log")"
grep -q 'event=stopped' "$log" || bed_die "no clean stop: $(tail -3 "$log")"
bed_log "SIGTERM: stopped"

# Without a configuration: -b, -t, --all, a group of its own reading the topic from
# the start; a zone appears with its first event and is fetched whole. A second
# endpoint (replica "zxkafka", the replica zxkafka's events name) holds another
# zone: asked first for every event, it answers NOTAUTH for $zone, which then
# comes from --server.
bzone=b.follow.test
gen "$bzone" 1
"$tool" load "$BED_T/store2" "$BED_T/$bzone.1.db" || bed_die "load $bzone"
sed -e "s|$store|$BED_T/store2|" -e "s|@$port\"|@$port2\"|" "$BED_T/zx.yaml" >"$BED_T/zx2.yaml"
bed_spawn serve_tool2 "$tool" serve "$BED_T/zx2.yaml"
bed_wait_for 10 kdig @127.0.0.1 -p "$port2" +time=1 +retry=0 SOA "$bzone" ||
	bed_die "serve_tool2: $(cat "$BED_T/serve_tool2.out")"
"$zxkafka" produce-update "$ZX_KAFKA_BOOTSTRAP" "$topic" "$bzone" 1 >/dev/null
mkdir -p "$BED_T/out4"
bed_spawn zx-follow-all "$follow" -b "$ZX_KAFKA_BOOTSTRAP" -t "$topic" -g "ops.follow.all.$$" \
	--all -s "127.0.0.1@$port" -r "zxkafka=127.0.0.1@$port2" -d "$BED_T/out4"
all_pid=$BED_PID
all_has_13() { [ "$(awk '$4 == "SOA" { print $7; exit }' "$BED_T/out4/$zone.zone" 2>/dev/null)" = 13 ]; }
bed_wait_for 20 all_has_13 || bed_die "--all: $(tail -5 "$BED_T/zx-follow-all.out")"
bed_zone_canon "$BED_T/out4/$zone.zone" >"$BED_T/all.canon"
bed_axfr 127.0.0.1 "$port" "$zone" >"$BED_T/served" || bed_die "AXFR"
bed_zone_compare "$BED_T/served" "$BED_T/all.canon" || bed_die "--all: differs"
grep -q "zone_follow_failed zone=other.test. .*NOTAUTH" "$BED_T/zx-follow-all.out" ||
	bed_die "--all: other.test not tried: $(tail -5 "$BED_T/zx-follow-all.out")"
b_has_1() { [ -s "$BED_T/out4/$bzone.zone" ]; }
bed_wait_for 20 b_has_1 || bed_die "--all: no $bzone: $(tail -5 "$BED_T/zx-follow-all.out")"
grep -q "zone_followed zone=$bzone. .* method=axfr .*server=127.0.0.1@$port2 " "$BED_T/zx-follow-all.out" ||
	bed_die "-r: $bzone not from its replica: $(grep "$bzone" "$BED_T/zx-follow-all.out")"
grep -q "zone_followed zone=$zone. .*server=127.0.0.1@$port " "$BED_T/zx-follow-all.out" ||
	bed_die "-r: $zone not from --server: $(grep "zone=$zone" "$BED_T/zx-follow-all.out")"
bed_stop_pid "$all_pid" zx-follow-all
bed_untrack "$all_pid"
bed_log "--all with -b/-t/-r: zones taken from the events, $zone fetched whole at 13 from --server, $bzone from its replica"

# --store: IXFR from the journal (a file at serial 5), then the whole zone.
out=$BED_T/out2
mkdir -p "$out"
cp "$BED_T/$zone.5.db" "$out/$zone.zone"
"$follow" --store "$store" -z "$zone" -d "$out" --once 2>"$BED_T/store.log" ||
	bed_die "--store: $(cat "$BED_T/store.log")"
grep -q "serial_from=5 serial_to=13 method=ixfr source=store" "$BED_T/store.log" ||
	bed_die "--store IXFR: $(cat "$BED_T/store.log")"
same "$zone" || bed_die "--store IXFR: differs"
rm "$out/$zone.zone"
"$follow" --store "$store" -z "$zone" -d "$out" --once 2>"$BED_T/store.log" ||
	bed_die "--store: $(cat "$BED_T/store.log")"
grep -q "serial_from=0 serial_to=13 method=axfr source=store" "$BED_T/store.log" ||
	bed_die "--store AXFR: $(cat "$BED_T/store.log")"
same "$zone" || bed_die "--store AXFR: differs"
bed_log "--store: journal IXFR 5 -> 13 and a whole copy, equal to the served zone"

# IXFR that does not apply to the copy (it lacks a record the diff deletes): AXFR.
out=$BED_T/out3
mkdir -p "$out"
bed_zone_canon "$BED_T/$zone.12.db" >"$BED_T/c12"
bed_zone_canon "$BED_T/$zone.13.db" >"$BED_T/c13"
gone=$(LC_ALL=C comm -23 "$BED_T/c12" "$BED_T/c13" | grep -v SOA | head -1)
[ -n "$gone" ] || bed_die "12 -> 13 deletes nothing"
grep -vxF "$gone" "$BED_T/c12" >"$out/$zone.zone"
"$follow" -s "127.0.0.1@$port" -z "$zone" -d "$out" --once 2>"$BED_T/e" || bed_die "$(cat "$BED_T/e")"
grep -q "serial_from=12 serial_to=13 method=axfr source=dns" "$BED_T/e" ||
	bed_die "no AXFR fallback: $(cat "$BED_T/e")"
same "$zone" || bed_die "after the AXFR fallback: differs"
bed_log "a copy the IXFR does not apply to: AXFR fallback, equal to the served zone"

# --once exit codes: 1 a zone that cannot be fetched, 2 usage, 3 no such directory.
rc=0
"$follow" -s "127.0.0.1@$port" -z nowhere.test -d "$out" --once --timeout 2 2>"$BED_T/e" || rc=$?
[ "$rc" = 1 ] && grep -q 'NOTAUTH' "$BED_T/e" || bed_die "unknown zone: exit $rc: $(cat "$BED_T/e")"
rc=0
"$follow" -s "127.0.0.1@$port" -z "$szone" -d "$out" --once 2>"$BED_T/e" || rc=$?
[ "$rc" = 1 ] && grep -q 'REFUSED' "$BED_T/e" || bed_die "unsigned: exit $rc: $(cat "$BED_T/e")"
"$follow" -s "127.0.0.1@$port" -y "hmac-sha256:zx-key:$key" -z "$szone" -d "$out" --once \
	2>"$BED_T/e" || bed_die "-y: $(cat "$BED_T/e")"
grep -q "zone=$szone. serial_from=0 serial_to=2 method=axfr" "$BED_T/e" || bed_die "-y: $(cat "$BED_T/e")"
same "$szone" || bed_die "-y: $szone differs"
rc=0
"$follow" -z "$zone" --bogus 2>/dev/null || rc=$?
[ "$rc" = 2 ] || bed_die "usage: exit $rc"
rc=0
"$follow" -z "$zone" -d "$BED_T/none" --once 2>/dev/null || rc=$?
[ "$rc" = 3 ] || bed_die "missing dir: exit $rc"
bed_log "--once: -y TSIG key; exit codes 1 (NOTAUTH, REFUSED), 2, 3: ok"
