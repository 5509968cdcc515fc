# SPDX-License-Identifier: MIT
# tests/bed/primary.sh -- DNS primaries for tests: Knot DNS (knotd), BIND (named)
# and NSD from Debian, on 127.0.0.1 high ports, one zone each, TSIG-protected
# transfers, IXFR served from zone-file differences, NOTIFY to a chosen target.
#
# Source it after lib.sh (bed_init first: the primaries live in $BED_T and die
# with the test), or run it as a command (state in $ZX_BED_DIR/primary/, stop
# it yourself):
#
#   primary_start KIND NAME PORT ZONE ZONEFILE [KEY...]
#       KIND knot|bind|nsd. The zone file is copied into the primary's dir
#       (edits never touch the original). KEY is "alg:name:base64secret" (the
#       kdig -y form); with none, one is generated (alg $PRIMARY_TSIG_ALG,
#       default hmac-sha256). Transfers need one of the keys, unless
#       PRIMARY_ALLOW_UNSIGNED=1. PRIMARY_NOTIFY="127.0.0.1@PORT" makes it send
#       NOTIFY there (signed with the first key; PRIMARY_NOTIFY_KEY=none for
#       unsigned). BIND also needs a control port: PRIMARY_CTL_PORT, else one
#       from bed_port. PRIMARY_ALLOW_FROM=ADDR (e.g. 127.0.0.2, an egress proxy's
#       source) lets only ADDR transfer (Knot, BIND, NSD) and, with BIND, query at
#       all; the helpers here then query from ADDR themselves (kdig -b). Returns
#       once the primary answers SOA.
#       XFR over TLS (BIND and NSD; RFC 9103): PRIMARY_TLS_PORT=P with PRIMARY_TLS_CERT
#       and PRIMARY_TLS_KEY (PEM files) adds a TLS listener on P with them (BIND
#       `listen-on port P tls`, NSD `tls-port`); with BIND, PRIMARY_TLS_CA (a CA file)
#       makes it require client certificates from that CA (mutual TLS) and
#       PRIMARY_TLS_PROTOCOLS (default "TLSv1.3") sets its TLS versions.
#       primary_start then waits until its TCP ports (DNS, TLS, control) listen: BIND
#       9.18 answers over UDP before it opens them, and does not retry one whose bind
#       failed until it is reloaded (SIGHUP, sent after 5 s).
#   primary_stop NAME
#   primary_ctl NAME            knotd's control socket (knotc -s), nsd's control-interface
#   primary_key NAME            the first key, "alg:name:secret"
#   primary_port NAME
#   primary_zonefile NAME       the primary's copy of the zone file
#   primary_serial NAME         the serial it serves
#   primary_change NAME ADD DEL MOD [SERIAL]
#       Edit the zone file: ADD new TXT records, DEL A records deleted (from the
#       end), MOD A records given new addresses (from the start), serial +1 (or
#       SERIAL); then reload and wait until the new serial is served. The zone
#       file must hold one RR a line with the SOA on one line (zonegen's form).
#   primary_reload NAME         reload the zone from its file
#   primary_notify NAME         have the primary send NOTIFY now
#   primary_axfr NAME           its AXFR, canonical (see bed_zone_canon)
#   primary_ixfr NAME SERIAL    raw kdig IXFR=SERIAL answer lines
#
# Control sockets live in a short directory of their own (sun_path holds 107 bytes,
# and the primary's dir may sit deep): the test's $BED_SOCK, or without bed_init a
# mktemp -d of their own that primary_stop removes.
#
# Observed (FIELD-NOTES.md): Knot sends NOTIFY over TCP, at start and after a
# reload with a new serial; NSD 4.6 diffs re-add unchanged apex records.

if [ -z "${ZX_SRC:-}" ]; then
	ZX_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
fi
# shellcheck source=tests/bed/lib.sh
declare -F bed_log >/dev/null || . "$ZX_SRC/tests/bed/lib.sh"

# _knot_log_target DIR: knotd's log file, DIR/knotd.log; knotd refuses a log target of more
# than about 255 bytes ("not enough space provided"), so past 250 the file goes beside
# its control socket (DIR/ctl names it: a short dir) and DIR/knotd.log is a link to it.
_knot_log_target()
{
	local d=$1 t=$1/knotd.log
	if [ "${#t}" -gt 250 ]; then
		t=$(dirname "$(cat "$d/ctl")")/knotd-$(basename "$d").log
		ln -sfn "$t" "$d/knotd.log"
	fi
	echo "$t"
}

_primary_dir()
{
	local base=${BED_T:-}
	[ -n "$base" ] || base=$ZX_BED_DIR/primary
	echo "$base/primary-$1"
}

_primary_get() { cat "$(_primary_dir "$1")/$2"; }

primary_key() { head -1 "$(_primary_dir "$1")/keys"; }
primary_ctl() { _primary_get "$1" ctl; }

# _primary_new_ctl DIR NAME FILE: pick the control socket's path, write it to DIR/ctl.
_primary_new_ctl()
{
	local d=$1 sd
	if [ -n "${BED_SOCK:-}" ]; then
		sd=$BED_SOCK
	else
		sd=$(bed_sockdir_new) || bed_die "cannot make a socket directory"
		echo "$sd" >"$d/sockdir" # removed by primary_stop
	fi
	echo "$sd/$2-$3" >"$d/ctl"
}
primary_port() { _primary_get "$1" port; }
primary_zonefile() { echo "$(_primary_dir "$1")/zone.db"; }

_primary_new_key()
{
	local alg=${PRIMARY_TSIG_ALG:-hmac-sha256}
	echo "$alg:$1:$(head -c 32 /dev/urandom | base64)"
}

# _primary_split KEY: sets k_alg k_name k_secret from "alg:name:secret".
_primary_split()
{
	k_alg=${1%%:*}
	local rest=${1#*:}
	k_name=${rest%%:*}
	k_secret=${rest#*:}
}

_primary_knot_conf()
{
	local d=$1 port=$2 zone=$3 k_alg k_name k_secret key names=()
	{
		echo "server:"
		echo "    rundir: \"$d\""
		if [ "${PRIMARY_LISTEN_V6:-0}" = 1 ]; then
			echo "    listen: [127.0.0.1@$port, ::1@$port]"
		else
			echo "    listen: 127.0.0.1@$port"
		fi
		echo "    udp-workers: 1"
		echo "    tcp-workers: 2"
		echo "    background-workers: 1"
		echo "control:"
		echo "    listen: \"$(cat "$d/ctl")\""
		echo "database:"
		echo "    storage: \"$d/db\""
		echo "log:"
		echo "  - target: \"$(_knot_log_target "$d")\""
		echo "    any: info"
		echo "key:"
		while read -r key; do
			_primary_split "$key"
			names+=("$k_name")
			echo "  - id: $k_name"
			echo "    algorithm: $k_alg"
			echo "    secret: $k_secret"
		done <"$d/keys"
		echo "acl:"
		echo "  - id: xfr"
		echo "    address: [${PRIMARY_ALLOW_FROM:-127.0.0.0/8, ::1}]"
		echo "    key: [$(IFS=,; echo "${names[*]}")]"
		echo "    action: transfer"
		if [ "${PRIMARY_ALLOW_UNSIGNED:-0}" = 1 ]; then
			echo "  - id: xfr_open"
			echo "    address: [127.0.0.0/8, ::1]"
			echo "    action: transfer"
		fi
		if [ -n "${PRIMARY_NOTIFY:-}" ]; then
			echo "remote:"
			echo "  - id: notify_target"
			echo "    address: ${PRIMARY_NOTIFY}"
			[ "${PRIMARY_NOTIFY_KEY:-}" = none ] || echo "    key: ${names[0]}"
		fi
		echo "template:"
		echo "  - id: default"
		echo "    storage: \"$d\""
		echo "    zonefile-load: difference"
		echo "    journal-content: changes"
		echo "    zonefile-sync: -1"
		echo "    semantic-checks: off"
		echo "zone:"
		echo "  - domain: $zone"
		echo "    file: \"$d/zone.db\""
		if [ "${PRIMARY_ALLOW_UNSIGNED:-0}" = 1 ]; then
			echo "    acl: [xfr, xfr_open]"
		else
			echo "    acl: xfr"
		fi
		if [ -n "${PRIMARY_NOTIFY:-}" ]; then
			echo "    notify: notify_target"
		fi
	} >"$d/knot.conf"
}

_primary_bind_conf()
{
	local d=$1 port=$2 zone=$3 ctl=$4 k_alg k_name k_secret key names=() allow=""
	{
		while read -r key; do
			_primary_split "$key"
			names+=("$k_name")
			echo "key \"$k_name\" { algorithm $k_alg; secret \"$k_secret\"; };"
			if [ -n "${PRIMARY_ALLOW_FROM:-}" ]; then # that address AND the key
				allow+="!{ !$PRIMARY_ALLOW_FROM; any; }; key \"$k_name\"; "
			else
				allow+="key \"$k_name\"; "
			fi
		done <"$d/keys"
		[ "${PRIMARY_ALLOW_UNSIGNED:-0}" = 1 ] && allow+="127.0.0.0/8; "
		echo "key \"rndc-key\" { algorithm hmac-sha256; secret \"$(head -c 32 /dev/urandom | base64)\"; };"
		echo "controls { inet 127.0.0.1 port $ctl allow { 127.0.0.1; } keys { \"rndc-key\"; }; };"
		if [ -n "${PRIMARY_TLS_PORT:-}" ]; then
			echo "tls zx-tls { cert-file \"$PRIMARY_TLS_CERT\"; key-file \"$PRIMARY_TLS_KEY\";"
			[ -n "${PRIMARY_TLS_CA:-}" ] && echo "    ca-file \"$PRIMARY_TLS_CA\";"
			echo "    protocols { ${PRIMARY_TLS_PROTOCOLS:-TLSv1.3}; }; };"
		fi
		echo "options {"
		echo "    directory \"$d\";"
		echo "    pid-file \"$d/named.pid\";"
		echo "    session-keyfile \"$d/session.key\";"
		echo "    managed-keys-directory \"$d\";"
		echo "    listen-on port $port { 127.0.0.1; };"
		[ -n "${PRIMARY_TLS_PORT:-}" ] &&
			echo "    listen-on port $PRIMARY_TLS_PORT tls zx-tls { 127.0.0.1; };"
		if [ "${PRIMARY_LISTEN_V6:-0}" = 1 ]; then
			echo "    listen-on-v6 port $port { ::1; };"
		else
			echo "    listen-on-v6 { none; };"
		fi
		echo "    recursion no;"
		echo "    dnssec-validation no;"
		echo "    ixfr-from-differences yes;"
		echo "    allow-transfer { $allow};"
		if [ -n "${PRIMARY_ALLOW_FROM:-}" ]; then
			echo "    allow-query { $PRIMARY_ALLOW_FROM; };"
		fi
		if [ -n "${PRIMARY_NOTIFY:-}" ]; then
			local sk=""
			[ "${PRIMARY_NOTIFY_KEY:-}" = none ] || sk=" key \"${names[0]}\""
			echo "    notify explicit;"
			echo "    notify-delay 0;"
			echo "    also-notify { ${PRIMARY_NOTIFY%@*} port ${PRIMARY_NOTIFY#*@}$sk; };"
		else
			echo "    notify no;"
		fi
		echo "};"
		echo "logging { channel f { file \"$d/named.log\"; severity info; print-time yes; };"
		echo "    category default { f; }; category xfer-out { f; }; category notify { f; }; };"
		echo "zone \"$zone\" { type primary; file \"$d/zone.db\"; };"
	} >"$d/named.conf"
	cat >"$d/rndc.conf" <<EOF
$(grep '^key "rndc-key"' "$d/named.conf")
options { default-key "rndc-key"; default-server 127.0.0.1; default-port $ctl; };
EOF
}

_primary_nsd_conf()
{
	local d=$1 port=$2 zone=$3 k_alg k_name k_secret key names=()
	{
		echo "server:"
		echo "    ip-address: 127.0.0.1@$port"
		if [ -n "${PRIMARY_TLS_PORT:-}" ]; then # NSD 4.6 serves AXFR on its TLS port too
			echo "    ip-address: 127.0.0.1@$PRIMARY_TLS_PORT"
			echo "    tls-port: $PRIMARY_TLS_PORT"
			echo "    tls-service-key: \"$PRIMARY_TLS_KEY\""
			echo "    tls-service-pem: \"$PRIMARY_TLS_CERT\""
		fi
		echo "    port: $port"
		echo "    do-ip6: no"
		echo "    server-count: 1"
		echo "    username: \"\""
		echo "    chroot: \"\""
		echo "    zonesdir: \"$d\""
		echo "    database: \"\""
		echo "    pidfile: \"$d/nsd.pid\""
		echo "    xfrdfile: \"$d/xfrd.state\""
		echo "    xfrdir: \"$d\""
		echo "    zonelistfile: \"$d/zone.list\""
		echo "    logfile: \"$d/nsd.log\""
		echo "    verbosity: 1"
		echo "remote-control:"
		echo "    control-enable: yes"
		echo "    control-interface: \"$(cat "$d/ctl")\""
		while read -r key; do
			_primary_split "$key"
			names+=("$k_name")
			echo "key:"
			echo "    name: \"$k_name\""
			echo "    algorithm: $k_alg"
			echo "    secret: \"$k_secret\""
		done <"$d/keys"
		echo "zone:"
		echo "    name: \"$zone\""
		echo "    zonefile: \"$d/zone.db\""
		echo "    store-ixfr: yes"
		echo "    create-ixfr: yes"
		for k_name in "${names[@]}"; do
			echo "    provide-xfr: ${PRIMARY_ALLOW_FROM:-127.0.0.0/8} $k_name"
		done
		[ "${PRIMARY_ALLOW_UNSIGNED:-0}" = 1 ] && echo "    provide-xfr: 127.0.0.0/8 NOKEY"
		if [ -n "${PRIMARY_NOTIFY:-}" ]; then
			local nk=${names[0]}
			[ "${PRIMARY_NOTIFY_KEY:-}" = none ] && nk=NOKEY
			echo "    notify: ${PRIMARY_NOTIFY} $nk"
		fi
	} >"$d/nsd.conf"
}

# _primary_soa HOST PORT ZONE: the served serial (empty when none).
_primary_soa()
{
	kdig ${PRIMARY_ALLOW_FROM:+-b "${PRIMARY_ALLOW_FROM%%,*}"} @"$1" -p "$2" +short +time=1 +retry=0 \
		SOA "$3" 2>/dev/null | awk 'NF >= 7 { print $3; exit }'
}

_primary_serves()
{
	local s
	s=$(_primary_soa 127.0.0.1 "$1" "$2")
	[ -n "$s" ] && { [ -z "${3:-}" ] || [ "$s" = "$3" ]; }
}

# _primary_tcp_listens PORT...: something listens on every one of them (TCP)
_primary_tcp_listens()
{
	local p
	for p in "$@"; do
		ss -Htln "sport = :$p" | grep -q . || return 1
	done
}

# _primary_bind_listens NAME DIR PORT...: wait until named listens on every TCP PORT.
# A listener whose bind failed (the port held for a moment by some connection's local
# end: the bed's ports lie in the ephemeral range) is not retried by named 9.18 on its
# own, silently; a SIGHUP (reload, interfaces scanned again) retries it.
_primary_bind_listens()
{
	local name=$1 d=$2 try
	shift 2
	for try in 1 2 3 4 5 6; do
		bed_wait_for 5 _primary_tcp_listens "$@" && return 0
		bed_log "primary bind $name: not all of TCP $* listen yet ($(ss -Htan "( sport = :${*: -2:1} )" | head -2 | tr '\n' ' ')); SIGHUP"
		kill -HUP "$(cat "$d/pid")" 2>/dev/null || true
	done
	bed_die "primary bind $name: TCP ports $* not listening"
}

# _primary_named_bin DIR: the named to run. Debian's AppArmor profile for
# /usr/sbin/named allows only /etc/bind, /var/cache/bind...; a copy under DIR is
# not covered by it, so where AppArmor is on (or PRIMARY_NAMED_COPY=1) run a copy.
_primary_named_bin()
{
	if [ "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" = Y ] ||
		[ "${PRIMARY_NAMED_COPY:-0}" = 1 ]; then
		cp /usr/sbin/named "$1/named"
		echo "$1/named"
	else
		echo named
	fi
}

_primary_launch()
{
	local kind=$1 name=$2 d=$3 out=$3/daemon.out pid
	case "$kind" in
	knot) setsid knotd -c "$d/knot.conf" >"$out" 2>&1 </dev/null & ;;
	bind) setsid "$(_primary_named_bin "$d")" -f -c "$d/named.conf" >"$out" 2>&1 </dev/null & ;;
	nsd) setsid nsd -d -c "$d/nsd.conf" >"$out" 2>&1 </dev/null & ;;
	esac
	pid=$!
	echo "$pid" >"$d/pid"
	declare -F bed_track >/dev/null && [ -n "${BED_T:-}" ] && bed_track "$pid" "$kind-$name"
	return 0
}

primary_start()
{
	local kind=$1 name=$2 port=$3 zone=$4 zonefile=$5 d serial
	shift 5
	case "$kind" in
	knot | bind | nsd) ;;
	*) bed_die "primary_start: unknown kind $kind (knot|bind|nsd)" ;;
	esac
	d=$(_primary_dir "$name")
	rm -rf "$d"
	mkdir -p "$d/db"
	cp "$zonefile" "$d/zone.db"
	echo "$kind" >"$d/kind"
	echo "$port" >"$d/port"
	echo "${zone%.}." >"$d/zone"
	if [ $# -eq 0 ]; then
		_primary_new_key "tsig-$name" >"$d/keys"
	else
		printf '%s\n' "$@" >"$d/keys"
	fi
	case "$kind" in
	knot | nsd) _primary_new_ctl "$d" "$name" "$kind.sock" ;;
	esac
	case "$kind" in
	knot) _primary_knot_conf "$d" "$port" "${zone%.}." ;;
	bind)
		local ctl=${PRIMARY_CTL_PORT:-}
		if [ -z "$ctl" ]; then
			ctl=$(bed_port)
			declare -F bed_port_keep >/dev/null && bed_port_keep "$ctl"
		fi
		echo "$ctl" >"$d/ctl_port"
		_primary_bind_conf "$d" "$port" "${zone%.}." "$ctl"
		;;
	nsd) _primary_nsd_conf "$d" "$port" "${zone%.}." ;;
	esac
	_primary_launch "$kind" "$name" "$d"
	serial=$(awk '$4 == "SOA" { print $7; exit }' "$d/zone.db")
	if ! bed_wait_for 30 _primary_serves "$port" "${zone%.}." "$serial"; then
		tail -n 20 "$d"/*.log "$d/daemon.out" >&2 2>/dev/null
		bed_die "primary $kind $name did not serve $zone serial $serial on port $port"
	fi
	if [ "$kind" = bind ] && [ -n "${PRIMARY_TLS_PORT:-}" ]; then
		_primary_bind_listens "$name" "$d" "$port" "$PRIMARY_TLS_PORT" "$(cat "$d/ctl_port")"
	fi
	bed_log "primary $kind $name: $zone serial $serial on 127.0.0.1@$port (pid $(cat "$d/pid"))"
}

primary_stop()
{
	local d pid
	d=$(_primary_dir "$1")
	[ -f "$d/pid" ] || return 0
	pid=$(cat "$d/pid")
	bed_stop_pid "$pid" "primary-$1"
	declare -F bed_untrack >/dev/null && bed_untrack "$pid"
	rm -f "$d/pid"
	if [ -f "$d/sockdir" ]; then
		rm -rf "$(cat "$d/sockdir")"
		rm -f "$d/sockdir"
	fi
}

primary_serial() { _primary_soa 127.0.0.1 "$(primary_port "$1")" "$(_primary_get "$1" zone)"; }

primary_reload()
{
	local d kind zone
	d=$(_primary_dir "$1")
	kind=$(cat "$d/kind")
	zone=$(cat "$d/zone")
	case "$kind" in
	knot) knotc -s "$(cat "$d/ctl")" zone-reload "$zone" >/dev/null ;;
	bind) rndc -c "$d/rndc.conf" reload "${zone%.}" >/dev/null ;;
	nsd) nsd-control -c "$d/nsd.conf" reload "${zone%.}" >/dev/null ;;
	esac
}

primary_notify()
{
	local d kind zone
	d=$(_primary_dir "$1")
	kind=$(cat "$d/kind")
	zone=$(cat "$d/zone")
	case "$kind" in
	knot) knotc -s "$(cat "$d/ctl")" zone-notify "$zone" >/dev/null ;;
	bind) rndc -c "$d/rndc.conf" notify "${zone%.}" >/dev/null ;;
	nsd) nsd-control -c "$d/nsd.conf" notify "${zone%.}" >/dev/null ;;
	esac
}

# _primary_edit FILE ADD DEL MOD SERIAL: the edit of primary_change, in place.
_primary_edit()
{
	local f=$1
	awk -v add="$2" -v del="$3" -v mod="$4" -v serial="$5" '
		# Pass 1 counts the editable A records (not apex glue ns1./ns2.).
		NR == FNR { if ($4 == "A" && $1 !~ /^ns[0-9]+\./) total++; next }
		$4 == "SOA" && !soa { $7 = serial; soa = 1; origin = $1 }
		$4 == "A" && $1 !~ /^ns[0-9]+\./ {
			n++
			if (n <= mod) { $5 = sprintf("172.%d.%d.%d", 16 + (serial % 16), int(n / 256) % 256, n % 256) }
			else if (n > total - del) { next }
		}
		{ print }
		END {
			for (i = 1; i <= add; i++)
				printf "add-%s-%d.%s 3600 IN TXT \"added at serial %s\"\n", serial, i, origin, serial
		}' "$f" "$f" >"$f.new"
	mv "$f.new" "$f"
}

primary_change()
{
	local name=$1 add=$2 del=$3 mod=$4 serial=${5:-} d zone port old
	d=$(_primary_dir "$name")
	zone=$(cat "$d/zone")
	port=$(cat "$d/port")
	old=$(awk '$4 == "SOA" { print $7; exit }' "$d/zone.db")
	[ -n "$serial" ] || serial=$(((old + 1) % 4294967296))
	local mtime now
	mtime=$(stat -c %Y "$d/zone.db")
	_primary_edit "$d/zone.db" "$add" "$del" "$mod" "$serial"
	# A reload may skip a file whose mtime (in seconds) did not move: move it.
	now=$(date +%s)
	[ "$now" -gt "$mtime" ] || now=$mtime
	touch -d "@$((now + 1))" "$d/zone.db"
	primary_reload "$name" || bed_die "primary $name: reload failed"
	if ! bed_wait_for 30 _primary_serves "$port" "$zone" "$serial"; then
		tail -n 20 "$d"/*.log >&2 2>/dev/null
		bed_die "primary $name: serial $serial not served after the reload"
	fi
	bed_log "primary $name: $zone $old -> $serial (+$add -$del ~$mod)"
}

primary_axfr()
{
	local d
	d=$(_primary_dir "$1")
	local from=${PRIMARY_ALLOW_FROM:-}
	BED_KDIG_FROM=${from%%,*} bed_axfr 127.0.0.1 "$(cat "$d/port")" "$(cat "$d/zone")" \
		"$(primary_key "$1")"
}

primary_ixfr()
{
	local d
	d=$(_primary_dir "$1")
	kdig @127.0.0.1 -p "$(cat "$d/port")" -y "$(primary_key "$1")" +noall +answer \
		"IXFR=$2" "$(cat "$d/zone")"
}

# As a command: primary.sh FUNCTION-SUFFIX ARGS... (e.g. primary.sh start knot p1 ...).
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -euo pipefail
	cmd=${1:-}
	shift || true
	case "$cmd" in
	start | stop | ctl | key | port | zonefile | serial | change | reload | notify | axfr | ixfr)
		"primary_$cmd" "$@" ;;
	*)
		echo "usage: $0 start|stop|ctl|key|port|zonefile|serial|change|reload|notify|axfr|ixfr ARGS" >&2
		exit 2
		;;
	esac
fi

# secondary_knot_conf DIR PORT ZONE MASTER KEYNAME SECRET: write DIR/knot.conf for a
# knotd SECONDARY of MASTER (addr@port, e.g. xfrd's DNS endpoint) on 127.0.0.1@PORT:
# transfers from MASTER and NOTIFYs from 127.0.0.1 signed with the hmac-sha256 key
# KEYNAME; AXFR out to anyone on loopback (for comparisons); zone only in its journal.
# Start it with `bed_spawn NAME knotd -c DIR/knot.conf`; control socket
# $(knot_ctl DIR) (in $BED_SOCK, see lib.sh), log DIR/knotd.log.
secondary_knot_conf()
{
	local d=$1 port=$2 zone=$3 master=$4 kname=$5 secret=$6 ctl
	mkdir -p "$d/db"
	ctl=$(bed_sock "knot-$(basename "$d").sock")
	echo "$ctl" >"$d/ctl"
	cat >"$d/knot.conf" <<KNOT
server:
    rundir: "$d"
    listen: 127.0.0.1@$port
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
control:
    listen: "$ctl"
database:
    storage: "$d/db"
log:
  - target: "$(_knot_log_target "$d")"
    any: info
key:
  - id: $kname
    algorithm: hmac-sha256
    secret: $secret
acl:
  - id: from_master
    address: 127.0.0.1
    key: $kname
    action: notify
  - id: out
    address: 127.0.0.0/8
    action: transfer
remote:
  - id: master
    address: $master
    key: $kname
template:
  - id: default
    storage: "$d"
    zonefile-sync: -1
    journal-content: changes
    semantic-checks: off
zone:
  - domain: $zone
    master: master
    acl: [from_master, out]
KNOT
}

# knot_ctl DIR: the control socket of the knotd that secondary_knot_conf DIR configured.
knot_ctl() { cat "$1/ctl"; }
