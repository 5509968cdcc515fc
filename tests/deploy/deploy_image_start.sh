#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# deploy_image_start: the image deploy_image_build made, run for real. Each program runs
# in a container of its own (`buildah run --isolation chroot --network host`: host
# network, as `docker run --network=host`), through the image's ENTRYPOINT, with the
# config and a BIND key file mounted at /etc/zx and the store on a host directory at
# /var/lib/zx, against the bed's Kafka and a knotd primary on loopback:
#   - xfrd (container) fetches the zone from knotd at start; kdig from outside gets its
#     SOA and an AXFR equal to the primary's;
#   - a change on knotd -> NOTIFY (TSIG) -> notifyd (container) -> Kafka -> xfrd: IXFR,
#     kdig sees the new serial; xfrd NOTIFYs its downstream (a sink on the host);
#   - zx-follow (container) follows the updates topic into a zone file equal to the
#     primary's zone; xfrctl (container) reads xfrd's store from the same volume;
#   - the image's health check passes against the running xfrd; /ready, /metrics of both
#     daemons answer, and /metrics holds every metric docker/prometheus/alerts.yaml and
#     the Grafana dashboard take from today's daemons (check_monitoring.py --live; those
#     of a feature this xfrd does not configure, tests/deploy/metrics_conditional.txt,
#     are seen live by the feature's own test);
#   - SIGTERM stops each daemon cleanly (exit 0).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/bed/lib.sh
. "$ZX_SRC/tests/bed/lib.sh"
# shellcheck source=tests/bed/primary.sh
. "$ZX_SRC/tests/bed/primary.sh"
# shellcheck source=tests/deploy/lib.sh
. "$here/lib.sh"
# shellcheck source=tests/deploy/image_lib.sh
. "$here/image_lib.sh"
bed_init deploy_image_start
img_init
[ -f "$IMG_STATE/image.env" ] ||
	bed_die "no image: $IMG_STATE/image.env is missing (deploy_image_build, this test's fixture, failed or did not run)"
# shellcheck disable=SC1091
. "$IMG_STATE/image.env"
zxpodman image exists "$IMG_ID" || bed_die "image $IMG_ID ($IMG_TAG) is not in $IMG_STORE"
bed_need_kafka
py=$(zx_python)
zxkafka=$(bed_tool zxkafka)
zone=image.test
req="img.$$.req" upd="img.$$.upd" group="img.$$.xfrd"
"$zxkafka" create-topic "$ZX_KAFKA_BOOTSTRAP" "$req" 2 >/dev/null || bed_die "create $req"
"$zxkafka" create-topic "$ZX_KAFKA_BOOTSTRAP" "$upd" 1 >/dev/null || bed_die "create $upd"
bed_on_exit "'$zxkafka' delete-topic '$ZX_KAFKA_BOOTSTRAP' '$req'; '$zxkafka' delete-topic '$ZX_KAFKA_BOOTSTRAP' '$upd'"
kport="" nport="" nhttp="" xdns="" xhttp="" sink=""
bed_ports 6 kport nport nhttp xdns xhttp sink

# /etc/zx: the config and the key file, as the compose and Kubernetes setups mount them.
secret=$(head -c 32 /dev/urandom | base64)
mkdir -p "$BED_T/etc/keys" "$BED_T/lib" "$BED_T/zones"
printf 'key "image-key" {\n\talgorithm hmac-sha256;\n\tsecret "%s";\n};\n' "$secret" \
	>"$BED_T/etc/keys/tsig.conf"
cat >"$BED_T/etc/zx.yaml" <<YAML
log: { level: info }
kafka:
  brokers: "$ZX_KAFKA_BOOTSTRAP"
  requests-topic: $req
  updates-topic: $upd
  group: $group
  settings: { "session.timeout.ms": "6000", "heartbeat.interval.ms": "500" }
keys:
  - file: /etc/zx/keys/tsig.conf
notifyd:
  instance: notifyd-image
  listen: [ "127.0.0.1@$nport" ]
  http: "127.0.0.1:$nhttp"
xfrd:
  replica: xfrd-image
  store: /var/lib/zx/zones.lmdb
  store-size: 256M
  listen: [ "127.0.0.1@$xdns" ]
  http: "127.0.0.1:$xhttp"
zones:
  - name: $zone
    primaries: [ "127.0.0.1@$kport" ]
    key: image-key
    notify-from: [ "127.0.0.0/8" ]
    notify: [ "127.0.0.1@$sink" ]
YAML
chmod -R a+rX "$BED_T/etc"
chown 10001:10001 "$BED_T/lib" "$BED_T/zones" # the image's user zx

"$(bed_tool zonegen)" -z "$zone" -n 300 -s 7 -S 2024060100 -o "$BED_T/zone.db"
PRIMARY_NOTIFY="127.0.0.1@$nport" primary_start knot knot "$kport" "$zone" "$BED_T/zone.db" \
	"hmac-sha256:image-key:$secret"
bed_notify_sink "$sink"

# Containers, one per program. Leftovers of a run killed before its cleanup go first.
declare -A ctr=() dpid=()
cleanup_containers()
{
	local n p i
	for n in "${!dpid[@]}"; do
		p=${dpid[$n]}
		kill -TERM "$p" 2>/dev/null || continue
		for ((i = 0; i < 100; i++)); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
	done
	for n in "${!ctr[@]}"; do
		zxbuildah rm "${ctr[$n]}" >/dev/null 2>&1 || true
	done
}
bed_on_exit cleanup_containers
for n in notifyd xfrd follow ctl; do
	zxbuildah rm "zx-test-$IMG_HASH-$n" >/dev/null 2>&1 || true
	ctr[$n]=$(zxbuildah from --pull=never --name "zx-test-$IMG_HASH-$n" "$IMG_ID") ||
		bed_die "buildah from $IMG_ID"
done
run_opts=(--isolation chroot --network host -v "$BED_T/etc:/etc/zx:ro")
# inside NAME ARGS...: a command in container NAME, in the foreground.
inside()
{
	local n=$1
	shift
	zxbuildah run "${run_opts[@]}" -v "$BED_T/lib:/var/lib/zx" -v "$BED_T/zones:/zones" \
		"${ctr[$n]}" -- "$@"
}
# descendants PID: every process below PID.
descendants()
{
	local c
	for c in $(ps -o pid= --ppid "$1"); do
		echo "$c"
		descendants "$c"
	done
}
# daemon_pid PID COMM: the process named COMM below PID (buildah -> chroot runtime -> it).
daemon_pid()
{
	local p
	for p in $(descendants "$1"); do
		if [ "$(cat "/proc/$p/comm" 2>/dev/null)" = "$2" ]; then
			echo "$p"
			return 0
		fi
	done
	return 1
}
declare -A bpid=()
# start NAME PROG ARGS...: `buildah run` NAME's container with the image's entrypoint.
start()
{
	local n=$1 prog=$2 p
	shift 2
	bed_spawn "$n" "${IMG_BUILDAH[@]}" run "${run_opts[@]}" -v "$BED_T/lib:/var/lib/zx" \
		-v "$BED_T/zones:/zones" "${ctr[$n]}" -- /usr/local/bin/zx-entrypoint "$prog" "$@"
	bpid[$n]=$BED_PID
	bed_wait_for 20 daemon_pid "$BED_PID" "${prog:0:15}" ||
		bed_die "$prog did not start in its container: $(cat "$BED_T/$n.out")"
	p=$(daemon_pid "$BED_PID" "${prog:0:15}")
	dpid[$n]=$p
	bed_track "$p" "$prog-in-container"
	bed_log "$prog runs in container ${ctr[$n]} (buildah pid ${bpid[$n]}, $prog pid $p, uid $(stat -c %u "/proc/$p"))"
}
# stop NAME: SIGTERM to the daemon itself; buildah run exits with the daemon's status.
stop()
{
	local n=$1 rc=0
	kill -TERM "${dpid[$n]}"
	wait "${bpid[$n]}" || rc=$?
	bed_untrack "${dpid[$n]}"
	bed_untrack "${bpid[$n]}"
	unset "dpid[$n]"
	[ "$rc" = 0 ] || bed_die "$n: exit $rc after SIGTERM: $(tail -5 "$BED_T/$n.out")"
}

start xfrd xfrd
start notifyd notifyd
bed_wait_for 30 curl -fs "http://127.0.0.1:$xhttp/ready" ||
	bed_die "xfrd in its container not ready: $(tail -20 "$BED_T/xfrd.out")"
bed_wait_for 20 curl -fs "http://127.0.0.1:$nhttp/ready" ||
	bed_die "notifyd in its container not ready: $(tail -20 "$BED_T/notifyd.out")"
[ "$(stat -c %u "/proc/${dpid[xfrd]}")" = 10001 ] || bed_die "xfrd does not run as uid 10001"

soa()
{
	kdig @127.0.0.1 -p "$xdns" +short +timeout=1 +retry=0 SOA "$zone" | awk '{print $3}'
}
at() { [ "$(soa)" = "$1" ]; }
bed_wait_for 30 at 2024060100 ||
	bed_die "xfrd's endpoint does not serve $zone 2024060100 (SOA '$(soa)'): $(tail -20 "$BED_T/xfrd.out")"
ours=$(bed_axfr 127.0.0.1 "$xdns" "$zone") || bed_die "no AXFR from xfrd in its container"
theirs=$(primary_axfr knot)
[ "$ours" = "$theirs" ] || bed_die "xfrd's AXFR differs from the primary's"
bed_log "from outside: kdig SOA $zone = 2024060100, AXFR equal to knotd's ($(grep -c . <<<"$ours") RRs)"

# zx-follow follows the updates topic from here on (it fetches the zone once at start).
start follow zx-follow -c /etc/zx/zx.yaml -g "img.$$.follow" -d /zones
followed() { [ "$(awk '$4 == "SOA" {print $7; exit}' "$BED_T/zones/$zone.zone" 2>/dev/null)" = "$1" ]; }
bed_wait_for 30 followed 2024060100 || bed_die "zx-follow wrote no $zone.zone: $(tail "$BED_T/follow.out")"

# NOTIFY path: knotd -> notifyd -> Kafka -> xfrd (IXFR) -> zx-follow, all in containers.
t0=$(date +%s%N)
primary_change knot 2 1 3
bed_wait_for 30 at 2024060101 || bed_die "the change did not reach xfrd: $(tail -20 "$BED_T/xfrd.out")"
bed_log "knotd change -> notifyd -> Kafka -> xfrd: $((($(date +%s%N) - t0) / 1000000)) ms"
grep -q "xfr_done zone=$zone. kind=ixfr old_serial=2024060100 serial=2024060101" "$BED_T/xfrd.out" ||
	bed_die "not an IXFR: $(grep xfr_ "$BED_T/xfrd.out")"
grep -q "event=notify_answer zone=$zone. serial=2024060101 .*answer=noerror" "$BED_T/notifyd.out" ||
	bed_die "notifyd answered no NOTIFY for $zone 2024060101: $(tail "$BED_T/notifyd.out")"
[ "$(bed_axfr 127.0.0.1 "$xdns" "$zone")" = "$(primary_axfr knot)" ] ||
	bed_die "after the IXFR xfrd's AXFR differs from the primary's"
bed_wait_for 20 grep -q "qname=$zone." "$BED_SINK_LOG" || bed_die "xfrd sent no NOTIFY downstream"
bed_wait_for 30 followed 2024060101 || bed_die "zx-follow did not follow to 2024060101"
[ "$(bed_zone_canon "$BED_T/zones/$zone.zone")" = "$(primary_axfr knot)" ] ||
	bed_die "zx-follow's $zone.zone differs from the primary's zone"
grep -q "event=zone_followed zone=$zone. serial_from=2024060100 serial_to=2024060101 method=ixfr" \
	"$BED_T/follow.out" || bed_die "zx-follow did not fetch the change by IXFR: $(tail "$BED_T/follow.out")"
bed_log "IXFR in xfrd, NOTIFY downstream, zx-follow's zone file equal to knotd's"

# xfrctl and the health check in containers of their own, on the same store.
out=$(inside ctl /usr/local/bin/zx-entrypoint xfrctl zones 2>&1) || bed_die "xfrctl zones: $out"
grep -Eq "^$zone\. +fresh +2024060101 " <<<"$out" || bed_die "xfrctl zones printed: $out"
inside ctl env ZX_HEALTH_PORT="$xhttp" /usr/local/bin/zx-healthcheck >"$BED_T/hc.out" 2>&1 ||
	bed_die "the image's health check fails against the running xfrd: $(cat "$BED_T/hc.out")"
bed_log "xfrctl zones (container): $(grep "^$zone" <<<"$out" | tr -s ' ')"

# /metrics of both daemons: what the alert rules and the dashboard use today is there
# (xfrd_kafka_consumer_lag once librdkafka's first statistics came: every 5 s).
bed_wait_for 15 sh -c "curl -fsS 'http://127.0.0.1:$xhttp/metrics' | grep -c '^xfrd_kafka_consumer_lag{' >/dev/null" ||
	bed_die "xfrd /metrics: no xfrd_kafka_consumer_lag within 15 s"
curl -fsS "http://127.0.0.1:$nhttp/metrics" >"$BED_T/notifyd.metrics" || bed_die "notifyd /metrics"
curl -fsS "http://127.0.0.1:$xhttp/metrics" >"$BED_T/xfrd.metrics" || bed_die "xfrd /metrics"
"$py" "$here/check_monitoring.py" "$ZX_SRC" --live "$BED_T/notifyd.metrics" "$BED_T/xfrd.metrics" ||
	bed_die "the live /metrics lack names the alert rules or the dashboard use"
grep -q '^xfrd_transfer_outcomes_total{outcome="ixfr"} [1-9]' "$BED_T/xfrd.metrics" ||
	bed_die "xfrd /metrics counted no IXFR"
grep -q '^notifyd_answered_total [1-9]' "$BED_T/notifyd.metrics" ||
	bed_die "notifyd /metrics counted no answered NOTIFY"

for n in follow notifyd xfrd; do
	stop "$n"
done
grep -q 'event=xfrd_stopping' "$BED_T/xfrd.out" || bed_die "xfrd did not log its stop"
bed_log "SIGTERM: zx-follow, notifyd and xfrd exited 0 in their containers"
bed_log "PASS"
