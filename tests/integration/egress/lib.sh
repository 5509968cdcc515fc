# SPDX-License-Identifier: MIT
# tests/integration/egress/lib.sh -- SOCKS5 proxies from Debian for the egress tests, on
# loopback, by PID, stopped at exit:
#
#   egress_ss_server NAME PORT [OUT_ADDR]   ss-server (shadowsocks-libev) on 127.0.0.1@PORT,
#                                   TCP and UDP relay, its outgoing connections and
#                                   datagrams from OUT_ADDR (-b; e.g. 127.0.0.2)
#   egress_ss_local NAME PORT SSPORT [ADDR]  ss-local: a SOCKS5 proxy on ADDR@PORT (default
#                                   127.0.0.1; ::1 for IPv6) relaying to ss-server SSPORT,
#                                   UDP relay on (-u; EGRESS_SS_NO_UDP=1: off, though it
#                                   still accepts UDP ASSOCIATE); sets EGRESS_PID
#   egress_danted NAME PORT "EXTERNAL..." [ADDR]  danted on ADDR@PORT (default ::1) with
#                                   username/password (RFC 1929), going out from each
#                                   EXTERNAL (by the target's family); CONNECTs to
#                                   port EGRESS_DANTE_BLOCK_PORT refused (reply 2);
#                                   sets EGRESS_PID. USER is a system user
#   egress_user NAME PASSWORD       a system user for dante's username method (dante
#                                   checks the system's password database), removed at
#                                   exit: needs root
#
# The design's own setup is ss-local in front of xfrd and ss-server where the static
# egress address lives: the primary sees ss-server's source address only.

EGRESS_SS_METHOD=chacha20-ietf-poly1305
EGRESS_SS_KEY=zx-egress-test

egress_need()
{
	local b
	for b in "$@"; do
		command -v "$b" >/dev/null 2>&1 || [ -x "/usr/sbin/$b" ] ||
			bed_skip "$b missing (tests/bed/install-deps.sh installs it)"
	done
}

_egress_wait_tcp() # ADDR PORT
{
	bed_wait_for 10 bash -c "ss -Htln 'sport = :$2' | grep -q ." ||
		bed_die "nothing listens on $1@$2"
}

egress_ss_server()
{
	local name=$1 port=$2 out=${3:-}
	bed_spawn "$name" ss-server -s 127.0.0.1 -p "$port" -k "$EGRESS_SS_KEY" -m "$EGRESS_SS_METHOD" \
		-u ${out:+-b "$out"} -t 30 -v
	EGRESS_PID=$BED_PID
	_egress_wait_tcp 127.0.0.1 "$port"
}

egress_ss_local()
{
	local name=$1 port=$2 ssport=$3 addr=${4:-127.0.0.1}
	local udp=-u
	[ "${EGRESS_SS_NO_UDP:-0}" = 1 ] && udp=""
	bed_spawn "$name" ss-local -s 127.0.0.1 -p "$ssport" -l "$port" -b "$addr" \
		-k "$EGRESS_SS_KEY" -m "$EGRESS_SS_METHOD" $udp -t 30 -v
	EGRESS_PID=$BED_PID
	_egress_wait_tcp "$addr" "$port"
}

egress_user()
{
	[ "$(id -u)" -eq 0 ] || bed_skip "dante's username method checks system users: needs root"
	useradd --system --no-create-home --shell /usr/sbin/nologin "$1" >/dev/null 2>&1 ||
		bed_die "useradd $1 failed"
	bed_on_exit "userdel $1"
	echo "$1:$2" | chpasswd || bed_die "chpasswd $1 failed"
}

egress_danted()
{
	local name=$1 port=$2 externals=$3 addr=${4:-::1} d e
	d=$BED_T/$name
	mkdir -p "$d"
	cat >"$d/danted.conf" <<DANTE
logoutput: $d/danted.log
internal: $addr port = $port
$(for e in $externals; do echo "external: $e"; done)
socksmethod: username
clientmethod: none
user.privileged: root
user.unprivileged: nobody
client pass {
    from: 0/0 to: 0/0
    log: error
}
socks block {
    from: 0/0 to: 0/0 port = ${EGRESS_DANTE_BLOCK_PORT:-1}
    command: connect
    log: error connect
}
socks pass {
    from: 0/0 to: 0/0
    command: connect udpassociate
    log: error connect
}
socks pass {
    from: 0/0 to: 0/0
    command: udpreply
    log: error connect
}
DANTE
	bed_spawn "$name" danted -f "$d/danted.conf" -p "$d/danted.pid" -N 1
	EGRESS_PID=$BED_PID
	_egress_wait_tcp "$addr" "$port"
}

# egress_conf FILE ZONE PRIMARIES [EXTRA_ZONE_YAML] [EXTRA_XFRD_YAML]: an xfrd config
# for one zone signed with key xfr-key ($EGRESS_SECRET), store in $BED_T/store.
egress_conf()
{
	cat >"$1" <<YAML
keys:
  - { name: xfr-key, algorithm: hmac-sha256, secret: "$EGRESS_SECRET" }
xfrd:
  store: $BED_T/store
  store-size: 512M
  transfers: { max: 4, per-primary: 2 }
  timeouts: { connect: 2s, read: 5s, transfer: 60s, soa: 2s }
${5:-}
zones:
  - name: $2
    key: xfr-key
    primaries: [ $3 ]
${4:-}
YAML
}

# egress_run CONF [ARGS]: one pass of xfrd --once; its log appended to $BED_T/xfrd.log,
# the outcome line in $last, the whole pass in $BED_T/run.log.
egress_run()
{
	local cfg=$1 rc=0
	shift
	timeout 120 "$ZX_BUILD/xfrd/xfrd" -c "$cfg" --once "$@" >"$BED_T/run.log" 2>&1 || rc=$?
	cat "$BED_T/run.log" >>"$BED_T/xfrd.log"
	last=$(grep -E 'event=xfr_(done|uptodate|failed)' "$BED_T/run.log" | tail -1 || true)
	return $rc
}

egress_expect() # STEP PATTERN: the last outcome line matches
{
	echo "$last" | grep -Eq "$2" || bed_die "$1: expected /$2/, got: $last"
	bed_log "$1: $last"
}
