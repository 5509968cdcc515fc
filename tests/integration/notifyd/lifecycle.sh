#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/integration/notifyd/lifecycle.sh -- TCP limits (connection cap, idle and message
# timeouts), the per-zone rate limit, SIGHUP reload without dropping sockets (and a
# broken config on SIGHUP keeps the old one), SIGTERM exits cleanly.
set -euo pipefail
. "$ZX_SRC/tests/integration/notifyd/lib.sh"
nd_setup nd_lifecycle

write_cfg()
{ # write_cfg EXTRA_ZONE_LINE
	nd_config "$BED_T/zx.yaml" <<YAML
kafka: { brokers: "@KAFKA@", requests-topic: "@TOPIC@", delivery-timeout: 5s }
notifyd:
  instance: nd-life
  listen: [ "127.0.0.1@@PORT@" ]
  http: "127.0.0.1:@HTTP@"
  rate-limit: { per-source: 0, per-zone: 2, burst: 1 }
  tcp: { max-connections: 2, idle-timeout: 1500ms, message-timeout: 1s }
zone-defaults: { primaries: [ "127.0.0.1@53" ], notify-from: [ "127.0.0.0/8" ] }
zones:
  - { name: life.test }
$1
YAML
}
write_cfg ""
nd_start "$BED_T/zx.yaml"
send() { python3 "$ND_DIR/dnswire.py" notify "$@"; }
rcode() { nd_decode "${1#answer }" | sed 's/.*\brcode=\([0-9]*\).*/\1/'; }

# --- TCP: two idle connections fill the cap; a third is closed at once; the idle ones
# are closed after idle-timeout; a half-sent message is cut after message-timeout.
python3 - "$ND_PORT" >"$BED_T/tcp.out" <<'PY'
import socket, sys, time
port = int(sys.argv[1])
a = socket.create_connection(("127.0.0.1", port)); b = socket.create_connection(("127.0.0.1", port))
time.sleep(0.3)
c = socket.create_connection(("127.0.0.1", port)); c.settimeout(2)
print("third", "closed" if c.recv(1) == b"" else "open")
a.settimeout(3); b.settimeout(3)
t = time.time(); r = a.recv(1); print("idle", "closed" if r == b"" else "data", round(time.time() - t, 1))
s = socket.create_connection(("127.0.0.1", port)); s.settimeout(3)
s.sendall(b"\x00\x30\x12")   # a 48-byte message announced, 1 byte sent
t = time.time(); r = s.recv(1); print("slow", "closed" if r == b"" else "data", round(time.time() - t, 1))
PY
cat "$BED_T/tcp.out" >&2
grep -q '^third closed' "$BED_T/tcp.out" || bed_die "third TCP connection was not refused"
grep -q '^idle closed' "$BED_T/tcp.out" || bed_die "idle TCP connection was not closed"
grep -q '^slow closed' "$BED_T/tcp.out" || bed_die "slow TCP message was not cut"
[ "$(nd_metric 'notifyd_drops_total{reason="tcp_limit"}')" -ge 1 ] || bed_die "tcp_limit not counted"
[ "$(nd_metric 'notifyd_drops_total{reason="tcp_idle"}')" -ge 2 ] || bed_die "tcp_idle not counted"
[ "$(nd_metric 'notifyd_drops_total{reason="tcp_slow"}')" -ge 1 ] || bed_die "tcp_slow not counted"
# The answers still come over TCP after all that.
[ "$(rcode "$(send --tcp 127.0.0.1 "$ND_PORT" life.test 1)")" = 0 ] || bed_die "TCP NOTIFY not answered"

# --- per-zone rate limit: 2/s, burst 1 -> of 6 back-to-back NOTIFYs most are dropped.
sleep 1
python3 - "$ND_PORT" >"$BED_T/rate.out" <<PY
import socket, sys
sys.path.insert(0, "$ND_DIR")
import dnswire
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(1.0)
for serial in range(2, 8):
    s.sendto(dnswire.notify_msg("life.test", serial), ("127.0.0.1", $ND_PORT))
got = 0
try:
    while True:
        s.recv(512); got += 1
except socket.timeout:
    pass
print("answered", got)
PY
cat "$BED_T/rate.out" >&2
answered=$(awk '{print $2}' "$BED_T/rate.out")
[ "$answered" -ge 1 ] && [ "$answered" -le 3 ] || bed_die "rate limit: $answered of 6 answered"
[ "$(nd_metric 'notifyd_requests_total{transport="udp",outcome="rate_zone"}')" -ge 3 ] ||
	bed_die "rate_zone not counted"

# --- SIGHUP: a new zone appears, the same sockets keep serving.
[ "$(rcode "$(send 127.0.0.1 "$ND_PORT" new.test 1)")" = 5 ] || bed_die "new.test known before reload"
write_cfg "  - { name: new.test }"
kill -HUP "$ND_PID"
bed_wait_for 10 test "$(nd_metric notifyd_config_reloads_total)" -ge 1 || bed_die "no reload"
[ "$(rcode "$(send 127.0.0.1 "$ND_PORT" new.test 2)")" = 0 ] || bed_die "new.test refused after reload"
[ "$(rcode "$(send --tcp 127.0.0.1 "$ND_PORT" new.test 3)")" = 0 ] || bed_die "TCP after reload"
# A broken file on SIGHUP: logged, the running config stays.
echo "zones: [ { name: " >"$BED_T/zx.yaml"
kill -HUP "$ND_PID"
bed_wait_for 10 grep -q 'event=reload_failed' "$BED_T/notifyd.out" || bed_die "broken reload not logged"
sleep 1.2
[ "$(rcode "$(send 127.0.0.1 "$ND_PORT" new.test 4)")" = 0 ] || bed_die "config lost after a bad reload"

# --- SIGTERM: clean exit (status 0) after flushing.
send 127.0.0.1 "$ND_PORT" life.test 9 >/dev/null || true
kill -TERM "$ND_PID"
for _ in $(seq 100); do
	kill -0 "$ND_PID" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$ND_PID" 2>/dev/null && bed_die "notifyd still running 10 s after SIGTERM"
wait "$ND_PID" 2>/dev/null && st=0 || st=$?
bed_untrack "$ND_PID"
[ "$st" = 0 ] || [ "$st" = 127 ] || bed_die "notifyd exit status $st after SIGTERM"
grep -q 'event=stopped' "$BED_T/notifyd.out" || bed_die "no clean stop logged"
bed_log "PASS"
