#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/integration/xfr/integrity.sh -- issue 11 items 3, 4 and 6 against the hostile
# primary, with xfrd --once and the real LMDB store:
#   - a primary gone back in time (holding 60 with a journal, SOA says 100, the IXFR
#     answer is a whole zone at 50): refused, logged, recorded; zone and journal kept;
#     only --force stores the older serial, logged at warn with both serials;
#   - malformed RDATA (an A of 3 bytes, an MX whose name is cut short, a TXT string
#     past its RDATA): the transfer fails naming owner and type; the zone is kept;
#   - an IXFR of 200,000 changesets that change nothing: applied in seconds, journal
#     at its bound; with a record limit below it, the IXFR falls back to AXFR;
#   - an IXFR that stalls past the whole-transfer timeout falls back to AXFR.
set -euo pipefail
. "$ZX_SRC/tests/bed/lib.sh"
bed_init xfr_integrity
xfrd=$ZX_BUILD/xfrd/xfrd
xfrctl=$ZX_BUILD/xfrd/xfrctl
hostile=$ZX_BUILD/tests/integration/xfr/hostile_primary
for b in "$xfrd" "$xfrctl" "$hostile"; do
	[ -x "$b" ] || bed_skip "$b not built"
done
export ZX_STORE_SYNC=none

# primary MODE SERIAL [STALL [PER_MESSAGE]]: (re)start the hostile primary on $port
primary()
{
	[ -n "${hpid:-}" ] && { bed_stop_pid "$hpid" hostile; bed_untrack "$hpid"; }
	rm -f "$BED_T/hostile.out" # not the last one's "ready"
	bed_spawn hostile "$hostile" -p "$port" -z h.test. -s "$2" -n 300 -m "${4:-100}" \
		${3:+-S "$3"} ${1:+-M "$1"}
	hpid=$BED_PID
	bed_wait_for 5 grep -q ready "$BED_T/hostile.out" || bed_die "hostile primary did not start"
}

# once [LIMITS] [FLAG] [TIMEOUTS]: one xfrd pass; its log in run.log, the outcome in $last
once()
{
	cat >"$BED_T/zx.yaml" <<EOF2
xfrd:
  store: $BED_T/store
  store-size: 256M
  journal: { changes: 20, bytes: 16M }
  timeouts: ${3:-{ connect: 1s, read: 2s, transfer: 20s, soa: 1s \}}
zones:
  - { name: h.test, primaries: [ "127.0.0.1@$port" ]${1:+, limits: $1} }
EOF2
	local t0=$SECONDS
	"$xfrd" -c "$BED_T/zx.yaml" --once ${2:-} >"$BED_T/run.log" 2>&1 || true
	took=$((SECONDS - t0))
	last=$(grep -E 'event=xfr_(done|uptodate|failed)' "$BED_T/run.log" | tail -1)
}

show() { "$xfrctl" --store "$BED_T/store" show h.test; }
field() { show | sed -n "s/^$1: *//p"; }

bed_ports 1 port

# ---- a serial going backwards -------------------------------------------------------
primary "" 59
once
echo "$last" | grep -q 'kind=axfr .*serial=59 ' || bed_die "first AXFR: $last"
primary "" 60
once
echo "$last" | grep -q 'kind=ixfr old_serial=59 serial=60 ' || bed_die "IXFR to 60: $last"
[ "$(field journal)" = "1 changesets, $(field journal | sed 's/^1 changesets, //')" ] ||
	bed_die "no journal: $(show)"
"$xfrctl" --store "$BED_T/store" dump h.test >"$BED_T/60.dump"
primary oldzone:50 100
once
echo "$last" | grep -q 'event=xfr_failed' || bed_die "zone at 50 not refused: $last"
echo "$last" | grep -q 'error=serial not newer than the stored one' ||
	bed_die "refusal without its error: $last"
grep -q 'event=xfr_serial_refused zone=h.test. serial=60 primary_serial=50 .*serial 50 is older than the stored serial 60' \
	"$BED_T/run.log" || bed_die "no xfr_serial_refused line: $(cat "$BED_T/run.log")"
show >"$BED_T/show.txt"
grep -Eq '^serial: *60$' "$BED_T/show.txt" || bed_die "serial not kept: $(cat "$BED_T/show.txt")"
grep -Eq '^journal: *1 changesets' "$BED_T/show.txt" || bed_die "journal lost: $(cat "$BED_T/show.txt")"
grep -Eq '^last-error: .*serial 50 is older than the stored serial 60' "$BED_T/show.txt" ||
	bed_die "last error: $(grep last-error "$BED_T/show.txt")"
"$xfrctl" --store "$BED_T/store" dump h.test | cmp -s - "$BED_T/60.dump" || bed_die "zone changed"
bed_log "backwards: $last"
once "" --force-axfr
echo "$last" | grep -q 'event=xfr_failed .*serial not newer' ||
	bed_die "--force-axfr stored an older serial: $last"
once "" --force
echo "$last" | grep -q 'kind=axfr old_serial=60 serial=50 ' || bed_die "--force: $last"
grep -q 'level=warn .*event=xfr_serial_back zone=h.test. old_serial=60 serial=50 ' "$BED_T/run.log" ||
	bed_die "no warn line for the forced serial: $(cat "$BED_T/run.log")"
bed_log "forced: $last"

# ---- malformed RDATA ----------------------------------------------------------------
good=$(field serial)
"$xfrctl" --store "$BED_T/store" dump h.test >"$BED_T/good.dump"
# the stream names a record it cannot decompress ("owner mx.h.test. type MX"), the
# store one it refuses ("r-bad.h.test. A: RDATA malformed (...)")
for k in "1 r-bad.h.test. (type )?A" "2 mx.h.test. (type )?MX" "3 txt.h.test. (type )?TXT"; do
	primary "badrdata:${k%% *}" $((good + 30)) # AXFR-style: the body
	once
	echo "$last" | grep -q 'event=xfr_failed' || bed_die "badrdata ${k%% *} stored: $last"
	echo "$last" | grep -Eq "detail=\"(owner )?${k#* }" ||
		bed_die "badrdata ${k%% *}: the record is not named: $last"
	grep -Eq "^serial: *$good\$" <(show) || bed_die "badrdata ${k%% *}: zone not kept"
	"$xfrctl" --store "$BED_T/store" dump h.test | cmp -s - "$BED_T/good.dump" ||
		bed_die "badrdata ${k%% *}: zone data changed"
	bed_log "badrdata ${k%% *}: $(field last-error)"
done

# ---- many changesets ----------------------------------------------------------------
primary empties $((good + 200000))
once
echo "$last" | grep -q "kind=ixfr old_serial=$good serial=$((good + 200000)) .*changesets=200000 " ||
	bed_die "200000 empty changesets: $last"
[ "$took" -le 30 ] || bed_die "200000 empty changesets took $took s"
show | grep -Eq '^journal: *20 changesets' || bed_die "journal not at its bound: $(show)"
bed_log "empties: ${took}s: $last"
good=$((good + 200000))
primary empties $((good + 5000))
once "{ records: 2000 }"
echo "$last" | grep -q "kind=axfr old_serial=$good serial=$((good + 5000)) .*fallback=\"limit reached\"" ||
	bed_die "an IXFR over the record limit did not fall back to AXFR: $last"
bed_log "limit: $last"

# ---- an IXFR that stalls past the transfer timeout ------------------------------------
good=$((good + 5000))
primary ixfrstall:1 $((good + 2)) 4 3 # 3 records a message: the IXFR takes 3
once "" "" "{ connect: 1s, read: 5s, transfer: 3s, soa: 1s }"
echo "$last" | grep -q "kind=axfr old_serial=$good serial=$((good + 2)) .*fallback=\"Connection timed out\"" ||
	bed_die "a stalled IXFR did not fall back to AXFR: $last"
bed_log "stall: $last"
bed_log PASS
