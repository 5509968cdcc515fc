#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/integration/serve/tcp.sh -- the endpoint's TCP side under clients that
# misbehave, on a zone of 85k records (about 7 MB of AXFR):
#   a slow reader gets its AXFR paced by the output watermark while the loop keeps
#   answering others (SOA over UDP and TCP, a full AXFR by kdig) at once, and the
#   tool's memory stays bounded; a reader that stalls is dropped after the idle
#   timeout (logged outcome=aborted); an idle connection is closed; connections
#   past the cap are closed at accept and counted; a wildcard listener answers
#   UDP from the address it was asked at. Also times the AXFR.
set -euo pipefail
export ZX_BED_PORTS=${ZX_BED_PORTS:-24000 24399} # 24400-24499: test_serve
. "$ZX_SRC/tests/bed/lib.sh"
bed_init serve_tcp

tool=$ZX_BUILD/tests/integration/serve/serve_tool
probe=$ZX_SRC/tests/integration/serve/tcpprobe.py
[ -x "$tool" ] || bed_skip "$tool not built"
zonegen=$(bed_tool zonegen)
for c in kdig python3 ldns-read-zone; do
	command -v "$c" >/dev/null || bed_skip "$c missing"
done

bed_ports 1 port
zone=big.test
n=60000
"$zonegen" -z "$zone" -n "$n" -s 3 -S 5 -o "$BED_T/zone.db"
# Plus 25k TXT of 200 bytes: about 7 MB of AXFR in all, more than the kernel's
# socket buffers hold, so the slow reader meets our own output watermark.
pad=$(printf 'x%.0s' $(seq 200))
seq 25000 | awk -v z="$zone" -v p="$pad" '{ printf "pad%d.%s. 300 IN TXT \"%s\"\n", $1, z, p }' \
	>>"$BED_T/zone.db"
"$tool" load "$BED_T/store" "$BED_T/zone.db" || bed_die "load"
cat >"$BED_T/zx.yaml" <<YAML
xfrd:
  store: $BED_T/store
  listen: [ "0.0.0.0@$port" ]
YAML
# Under ASan, freed memory sits in a quarantine (256 MB by default): keep it small
# so RSS says what the server holds.
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=2 \
	bed_spawn serve_tool "$tool" serve "$BED_T/zx.yaml" --idle-ms 1500 --tcp-max 8
pid=$BED_PID
bed_wait_for 10 kdig @127.0.0.1 -p "$port" +time=1 +retry=0 SOA "$zone" || bed_die "no answer"

# A wildcard listener answers from the address it was asked at (IP_PKTINFO): kdig
# takes no UDP answer from another address.
for a in 127.0.0.1 127.0.0.3; do
	kdig @$a -p "$port" +notcp +time=2 +retry=0 +short SOA "$zone" | grep -q ' 5 ' ||
		bed_die "no UDP answer from $a on the wildcard listener"
done

rss() { awk '/^VmRSS/ { print $2 }' "/proc/$pid/status"; }

# A full AXFR, timed, equal to the file.
t0=$(date +%s%N)
bed_axfr 127.0.0.1 "$port" "$zone" >"$BED_T/axfr" || bed_die "AXFR failed"
t1=$(date +%s%N)
bed_zone_canon "$BED_T/zone.db" >"$BED_T/zone.canon"
bed_zone_compare "$BED_T/zone.canon" "$BED_T/axfr" || bed_die "AXFR differs"
bed_log "AXFR of $(wc -l <"$BED_T/axfr") RRs in $(((t1 - t0) / 1000000)) ms (kdig + canonical sort)"
rss0=$(rss) # the store's pages are mapped in by now

# Slow reader for 3 s; meanwhile others are answered promptly.
python3 "$probe" slow "$port" "$zone" 3 >"$BED_T/slow.out" &
slow=$!
sleep 0.5
worst=0
for i in $(seq 10); do
	for t in +notcp +tcp; do
		a=$(date +%s%N)
		kdig @127.0.0.1 -p "$port" $t +time=1 +retry=0 +short SOA "$zone" | grep -q ' 5 ' ||
			bed_die "SOA $t not answered during the slow transfer"
		ms=$((($(date +%s%N) - a) / 1000000))
		[ "$ms" -gt "$worst" ] && worst=$ms
	done
done
bed_axfr 127.0.0.1 "$port" "$zone" >"$BED_T/axfr2" || bed_die "AXFR during the slow one failed"
wait "$slow" || bed_die "slow reader failed"
got=$(cat "$BED_T/slow.out")
rss1=$(rss)
bed_log "slow reader got $got bytes in 3 s; 20 SOA queries meanwhile, worst ${worst} ms; RSS ${rss0} -> ${rss1} KiB"
[ "$got" -lt 1500000 ] || bed_die "the slow reader was not paced ($got bytes)"
[ "$worst" -lt 500 ] || bed_die "the loop stalled: an SOA took $worst ms"
[ $((rss1 - rss0)) -lt 16000 ] || bed_die "memory grew by $((rss1 - rss0)) KiB"
# It closed mid-transfer: the server notices at its next write.
slow_logged() { grep -q 'method=axfr .*outcome=aborted' "$BED_T/serve_tool.out"; }
bed_wait_for 5 slow_logged || bed_die "the slow reader's AXFR is not logged as aborted"

# A reader that stalls for good is dropped after the idle timeout (1.5 s).
before=$(grep -c 'outcome=aborted' "$BED_T/serve_tool.out")
python3 "$probe" stall "$port" "$zone" 6 &
stall=$!
stalled_dropped() { [ "$(grep -c 'outcome=aborted' "$BED_T/serve_tool.out")" -gt "$before" ]; }
bed_wait_for 5 stalled_dropped || bed_die "a stalled reader was not dropped"
kill "$stall" 2>/dev/null || true
wait "$stall" 2>/dev/null || true
bed_log "stalled reader dropped after the idle timeout"

# Three queries in one write: answered one after the other, the AXFR whole in between.
read -r runs <<<"$(python3 "$probe" pipeline "$port" "$zone")"
[ "${runs% *}" = "1 2 3" ] || bed_die "pipelined answers out of order: $runs"
bed_log "pipelined SOA, AXFR, SOA answered in order (${runs##* } messages)"

# Idle connection closed; the cap (8) closes the 9th at accept.
t=$(python3 "$probe" idle "$port" 5) || bed_die "idle connection not closed"
bed_log "idle connection closed after $t s"
[ "$(python3 "$probe" cap "$port" 8)" = rejected ] || bed_die "the 9th connection was accepted"

kill -TERM "$pid"
for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
grep -q '^xfrd_serve_tcp_rejected_total [1-9]' "$BED_T/serve_tool.out" || bed_die "rejection not counted"
grep -q '^xfrd_serve_transfers_total{method="axfr"} 3' "$BED_T/serve_tool.out" ||
	bed_die "AXFRs not counted: $(grep transfers_total "$BED_T/serve_tool.out")"
bed_log "PASS"
