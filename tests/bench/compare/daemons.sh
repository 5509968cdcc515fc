# SPDX-License-Identifier: MIT
# tests/bench/compare/daemons.sh -- the secondaries of the fair comparison: their configs,
# start and stop. Sourced by tests/bench/compare.sh (after tests/bed/lib.sh).
#
#   d_start KIND SET DIR   start KIND (zx zxsa knot bind nsd) as a secondary of the one
#                          primary ($C_PPORT) for the zones of SET (big | many), with an
#                          empty store in DIR. Sets D_T0 ($EPOCHREALTIME just before the
#                          process that loads the zones was started), D_PIDS (every
#                          process to sample), D_SERVE (the endpoint polled), D_NOTIFY
#                          (where NOTIFYs go; empty when KIND has no listener), D_LOG.
#   d_stop                 stop what d_start started (by PID).
#   d_engine_ms KIND ROW   the daemon's own transfer time of its last transfer, from its
#                          log (zx: xfr_done duration_ms; Knot: "finished, N seconds";
#                          BIND: "Transfer completed ... N secs"); empty when it logs none.
#
# What every daemon gets (the comparison's rules, tests/bench/README.md):
#   - its defaults, except paths, the listen address, the TSIG key and the primary; logs
#     at their default level into a file;
#   - no NOTIFY downstream (BIND: `notify no`; the others send none unless told);
#   - NOTIFY accepted from 127.0.0.1 signed with the transfer key (the poller sends them),
#     on a listening socket of its own: the poller's SOA queries (up to 10,000/s) go to
#     another one, so they cannot fill the receive buffer the NOTIFYs arrive in (zx's
#     notifyd is a process of its own anyway). In a first full run, polling and NOTIFYs
#     on one socket, BIND left 264 of 1,000 NOTIFYs unanswered after 5 rounds;
#   - BIND, for every row: serial-query-rate 1000, transfers-in 100, transfers-per-ns 100.
#     Its defaults (20, 10, 2) would need >= 500 s for 10k zones by the SOA-query rate
#     alone (ANCHORS.md); the others need no such tuning;
#   - zx: the shipped defaults (docker/zx.example.yaml), disk sync on (ZX_STORE_SYNC is
#     unset), except notifyd's rate-limit per-source (0 = unlimited): its default of 200/s
#     drops most of a burst of 1,000 NOTIFYs from one primary, and the burst row measures
#     transfers, not the limiter.
#
# Needs: C_PPORT C_SECRET C_W (work dir) C_ZONES_big C_ZONES_many (zone-name files),
# C_KAFKA (bootstrap; zx only), C_BUILD.

declare -A D_PORTS  # "KIND:what" -> port, reserved once per run
D_PIDS=()
D_NAMES=()

# _dalloc KIND WHAT...: reserve the ports once (not in a subshell: D_PORTS must keep them)
_dalloc()
{
	local kind=$1 w p
	shift
	for w in "$@"; do
		if [ -z "${D_PORTS[$kind:$w]:-}" ]; then
			p=$(bed_port)
			bed_port_keep "$p"
			D_PORTS[$kind:$w]=$p
		fi
	done
}

_dport() { echo "${D_PORTS[$1:$2]}"; }

# _dspawn NAME LOG CMD...: start in its own session, tracked for the cleanup.
_dspawn()
{
	local name=$1 log=$2
	shift 2
	setsid "$@" >"$log" 2>&1 </dev/null &
	D_PIDS+=($!)
	D_NAMES+=("$name")
	bed_track "$!" "$name"
}

_zx_conf()
{
	local set=$1 dir=$2 kafka=$3 z
	echo "log: { level: info }"
	if [ "$kafka" = 1 ]; then
		echo "kafka: { brokers: \"$C_KAFKA\", requests-topic: $C_TOPIC.req,"
		echo "         updates-topic: $C_TOPIC.upd, group: $C_TOPIC.g }"
	fi
	echo "keys: [ { name: xfr-key, algorithm: hmac-sha256, secret: \"$C_SECRET\" } ]"
	if [ "$kafka" = 1 ]; then
		echo "notifyd:"
		echo "  instance: nd-cmp"
		echo "  listen: [ \"127.0.0.1@$(_dport zx notify)\" ]"
		echo "  http: \"127.0.0.1:$(_dport zx nhttp)\""
		echo "  rate-limit: { per-source: 0 }"
	fi
	echo "xfrd:"
	echo "  replica: x-cmp"
	echo "  store: $dir/store"
	echo "  listen: [ \"127.0.0.1@$(_dport zx serve)\" ]"
	echo "  http: \"127.0.0.1:$(_dport zx xhttp)\""
	[ -z "${COMPARE_ZX_XFRD:-}" ] || echo "  ${COMPARE_ZX_XFRD}" # diagnostics only
	echo "zone-defaults: { primaries: [ \"127.0.0.1@$C_PPORT\" ], key: xfr-key }"
	echo "zones:"
	while read -r z; do
		echo "  - { name: $z }"
	done <"$(_zones "$set")"
}

_zones() { local v=C_ZONES_$1; echo "${!v}"; }

_knot_conf()
{
	local set=$1 dir=$2 port=$3 nport=$4 z
	cat <<KNOT
server:
    rundir: "$dir"
    listen: [ 127.0.0.1@$port, 127.0.0.1@$nport ]
database:
    storage: "$dir/db"
log:
  - target: "$dir/knotd.log"
    any: info
key:
  - id: xfr-key
    algorithm: hmac-sha256
    secret: $C_SECRET
remote:
  - id: primary
    address: 127.0.0.1@$C_PPORT
    key: xfr-key
acl:
  - id: notify
    address: 127.0.0.1
    key: xfr-key
    action: notify
template:
  - id: default
    storage: "$dir"
    master: primary
    acl: notify
zone:
KNOT
	while read -r z; do
		echo "  - domain: $z"
	done <"$(_zones "$set")"
}

_bind_conf()
{
	local set=$1 dir=$2 port=$3 nport=$4 z
	cat <<BIND
key "xfr-key" { algorithm hmac-sha256; secret "$C_SECRET"; };
options {
    directory "$dir";
    pid-file "$dir/named.pid";
    session-keyfile "$dir/session.key";
    managed-keys-directory "$dir";
    listen-on port $port { 127.0.0.1; };
    listen-on port $nport { 127.0.0.1; };
    listen-on-v6 { none; };
    recursion no;
    dnssec-validation no;
    notify no;
    serial-query-rate 1000;
    transfers-in 100;
    transfers-per-ns 100;
};
controls { };
logging {
    channel f { file "$dir/named.log"; severity info; print-time yes; };
    category default { f; };
    category xfer-in { f; };
    category notify { f; };
};
BIND
	while read -r z; do
		echo "zone \"$z\" { type secondary; file \"$z.db\"; primaries port $C_PPORT { 127.0.0.1 key \"xfr-key\"; }; };"
	done <"$(_zones "$set")"
}

_nsd_conf()
{
	local set=$1 dir=$2 port=$3 nport=$4 z
	cat <<NSD
server:
    ip-address: 127.0.0.1@$port
    ip-address: 127.0.0.1@$nport
    port: $port
    do-ip6: no
    username: ""
    chroot: ""
    zonesdir: "$dir"
    database: ""
    pidfile: "$dir/nsd.pid"
    xfrdfile: "$dir/xfrd.state"
    xfrdir: "$dir"
    zonelistfile: "$dir/zone.list"
    logfile: "$dir/nsd.log"
remote-control:
    control-enable: no
key:
    name: "xfr-key"
    algorithm: hmac-sha256
    secret: "$C_SECRET"
pattern:
    name: "sec"
    zonefile: "%s.zone"
    request-xfr: 127.0.0.1@$C_PPORT xfr-key
    allow-notify: 127.0.0.1 xfr-key
NSD
	while read -r z; do
		printf 'zone:\n    name: "%s"\n    include-pattern: "sec"\n' "$z"
	done <"$(_zones "$set")"
}

d_start()
{
	local kind=$1 set=$2 dir=$3 port
	D_PIDS=()
	D_NAMES=()
	D_NOTIFY=""
	rm -rf "$dir"
	mkdir -p "$dir/db"
	case "$kind" in
	zx | zxsa) _dalloc zx serve notify nhttp xhttp ;;
	*) _dalloc "$kind" serve notify ;;
	esac
	case "$kind" in
	zx)
		C_TOPIC=cmp.$$.$RANDOM
		"$C_BUILD/tests/bed/zxkafka" create-topic "$C_KAFKA" "$C_TOPIC.req" "${C_PARTITIONS:-8}" >/dev/null &&
			"$C_BUILD/tests/bed/zxkafka" create-topic "$C_KAFKA" "$C_TOPIC.upd" 1 >/dev/null ||
			bed_die "cannot create the Kafka topics"
		_zx_conf "$set" "$dir" 1 >"$dir/zx.yaml"
		D_SERVE=$(_dport zx serve)
		D_NOTIFY=$(_dport zx notify)
		# notifyd first (not timed): it has no part in loading the zones
		_dspawn notifyd "$dir/notifyd.log" "$C_BUILD/notifyd/notifyd" -c "$dir/zx.yaml"
		bed_wait_for 30 curl -fs "http://127.0.0.1:$(_dport zx nhttp)/health" ||
			bed_die "notifyd did not start: $(tail -n 3 "$dir/notifyd.log")"
		D_LOG=$dir/xfrd.log
		D_T0=$EPOCHREALTIME
		# shellcheck disable=SC2086 # diagnostics only: words
		_dspawn xfrd "$D_LOG" env ${COMPARE_ZX_ENV:-} ${COMPARE_ZX_WRAP:-} \
			"$C_BUILD/xfrd/xfrd" -c "$dir/zx.yaml"
		;;
	zxsa)
		_zx_conf "$set" "$dir" 0 >"$dir/zx.yaml"
		D_SERVE=$(_dport zx serve)
		D_LOG=$dir/xfrd.log
		D_T0=$EPOCHREALTIME
		# shellcheck disable=SC2086
		_dspawn xfrd-sa "$D_LOG" env ${COMPARE_ZX_ENV:-} ${COMPARE_ZX_WRAP:-} \
			"$C_BUILD/xfrd/xfrd" -c "$dir/zx.yaml" --standalone
		;;
	knot)
		port=$(_dport knot serve)
		_knot_conf "$set" "$dir" "$port" "$(_dport knot notify)" >"$dir/knot.conf"
		D_SERVE=$port
		D_NOTIFY=$(_dport knot notify)
		D_LOG=$dir/knotd.log
		D_T0=$EPOCHREALTIME
		_dspawn knotd "$dir/out" knotd -c "$dir/knot.conf"
		;;
	bind)
		port=$(_dport bind serve)
		_bind_conf "$set" "$dir" "$port" "$(_dport bind notify)" >"$dir/named.conf"
		local named
		named=$(_primary_named_bin "$dir")
		D_SERVE=$port
		D_NOTIFY=$(_dport bind notify)
		D_LOG=$dir/named.log
		D_T0=$EPOCHREALTIME
		_dspawn named "$dir/out" "$named" -f -c "$dir/named.conf"
		;;
	nsd)
		port=$(_dport nsd serve)
		_nsd_conf "$set" "$dir" "$port" "$(_dport nsd notify)" >"$dir/nsd.conf"
		D_SERVE=$port
		D_NOTIFY=$(_dport nsd notify)
		D_LOG=$dir/nsd.log
		D_T0=$EPOCHREALTIME
		_dspawn nsd "$dir/out" nsd -d -c "$dir/nsd.conf"
		;;
	*) bed_die "unknown daemon $kind (zx zxsa knot bind nsd)" ;;
	esac
}

d_stop()
{
	local i
	# the loading process first (xfrd leaves its group), then the rest
	for ((i = ${#D_PIDS[@]} - 1; i >= 0; i--)); do
		if [ -n "${COMPARE_ZX_WRAP:-}" ] && [[ ${D_NAMES[i]} == xfrd* ]]; then
			# a wrapper (strace) detaches on SIGTERM: stop what it runs, by PID
			local c
			for c in $(cat /proc/"${D_PIDS[i]}"/task/*/children 2>/dev/null); do
				bed_stop_pid "$c" "${D_NAMES[i]} (wrapped)"
			done
		fi
		bed_stop_pid "${D_PIDS[i]}" "${D_NAMES[i]}"
		bed_untrack "${D_PIDS[i]}"
	done
	if [ -n "${C_TOPIC:-}" ]; then
		"$C_BUILD/tests/bed/zxkafka" delete-topic "$C_KAFKA" "$C_TOPIC.req" >/dev/null 2>&1 || true
		"$C_BUILD/tests/bed/zxkafka" delete-topic "$C_KAFKA" "$C_TOPIC.upd" >/dev/null 2>&1 || true
		C_TOPIC=""
	fi
	D_PIDS=()
	D_NAMES=()
}

d_engine_ms()
{
	local kind=$1 log=$D_LOG
	case "$kind" in
	zx | zxsa)
		sed -n 's/.*event=xfr_done .*duration_ms=\([0-9.]*\).*/\1/p' "$log" | tail -1
		;;
	knot)
		sed -n 's/.*XFR, incoming, .*finished, \([0-9.]*\) seconds.*/\1/p' "$log" | tail -1 |
			awk '{ printf "%.0f", $1 * 1000 }'
		;;
	bind)
		sed -n 's/.*Transfer completed: .*, \([0-9.]*\) secs.*/\1/p' "$log" | tail -1 |
			awk '{ printf "%.0f", $1 * 1000 }'
		;;
	esac
}
