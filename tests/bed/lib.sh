# SPDX-License-Identifier: MIT
# tests/bed/lib.sh -- common functions of the integration tests. Source it:
#
#   . "$ZX_SRC/tests/bed/lib.sh"
#   bed_init my_test            # scratch dir $BED_T, cleanup trap, ports freed at exit
#   port=$(bed_port)            # a free loopback port, reserved for this test
#   bed_spawn knotd knotd -c "$BED_T/knot.conf"   # by PID; killed at exit
#   bed_wait_for 10 kdig @127.0.0.1 -p "$port" example.test SOA
#   bed_need_kafka              # exit 77 (skip) without a broker
#   sock=$(bed_sock knotd.sock) # a unix socket path that fits sun_path, whatever the checkout
#
# Every test gets its own scratch dir under $ZX_BED_DIR/t/ (default
# $ZX_BUILD/bed/t/), kept after a failure for the post-mortem and removed after a
# pass (set ZX_KEEP=1 to keep it anyway). Everything started with bed_spawn or
# registered with bed_track / bed_on_exit is stopped at exit, whatever the exit.
#
# Unix sockets (knotd's and nsd's control sockets): sun_path holds 107 bytes, which a
# path under a checkout a little deeper than usual exceeds (knotd: "failed to bind
# socket ... not enough space provided"). So they never live in the scratch dir: each
# test gets a short directory of its own, $BED_SOCK (mktemp -d under $XDG_RUNTIME_DIR
# when that is short, else /tmp), removed at exit; bed_sock NAME names a socket there.
#
# Ports: the bed's range is 19000-19999. 19092/19093 belong to the bed's Kafka;
# bed_port hands out free ports from 19100-19999 (ZX_BED_PORTS="LO HI" to move
# it), reserved with a lock dir so tests running in parallel never collide.

: "${ZX_SRC:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${ZX_BUILD:=$ZX_SRC/build}"
: "${ZX_BED_DIR:=$ZX_BUILD/bed}"
export ZX_SRC ZX_BUILD ZX_BED_DIR

BED_PIDS=()      # "pid name" of what this test started
BED_ATEXIT=()    # commands run at exit, last registered first
BED_PORTS=()     # reserved port lock dirs
BED_T=""
BED_SOCK=""

bed_log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
bed_die() { bed_log "FAIL: $*"; exit 1; }
bed_skip() { bed_log "SKIP: $*"; exit 77; }

# bed_init NAME: make $BED_T and install the cleanup trap.
bed_init()
{
	local name=${1:-test}
	mkdir -p "$ZX_BED_DIR/t"
	BED_T=$(mktemp -d "$ZX_BED_DIR/t/$name.XXXXXX")
	export BED_T
	trap 'bed_cleanup' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	BED_SOCK=$(bed_sockdir_new) || bed_die "cannot make a socket directory"
	export BED_SOCK
	echo "$BED_SOCK" >"$BED_T/sockdir" # for tests/run-all.sh, should the test be killed
	bed_log "scratch dir $BED_T, sockets in $BED_SOCK"
}

# bed_sockdir_new: make and print a new short directory for unix sockets:
# $XDG_RUNTIME_DIR/zx.XXXXXX when that directory is writable and short, else
# /tmp/zx.XXXXXX (never $TMPDIR: it may be as deep as the checkout). The caller
# removes it.
bed_sockdir_new()
{
	local base=/tmp
	if [ -n "${XDG_RUNTIME_DIR:-}" ] && [ -d "$XDG_RUNTIME_DIR" ] && [ -w "$XDG_RUNTIME_DIR" ] &&
		[ "${#XDG_RUNTIME_DIR}" -le 40 ]; then
		base=$XDG_RUNTIME_DIR
	fi
	mktemp -d "$base/zx.XXXXXX"
}

# bed_sock NAME: the path of unix socket NAME in this test's socket dir.
bed_sock()
{
	[ -n "$BED_SOCK" ] || bed_die "bed_sock before bed_init"
	echo "$BED_SOCK/$1"
}

# bed_stop_pid PID [NAME]: SIGTERM, wait up to 10 s, then SIGKILL.
bed_stop_pid()
{
	local pid=$1 name=${2:-$1} i
	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	bed_log "$name (pid $pid) ignored SIGTERM: SIGKILL"
	kill -KILL "$pid" 2>/dev/null || true
}

bed_cleanup()
{
	local rc=$? i entry
	trap - EXIT INT TERM
	for ((i = ${#BED_ATEXIT[@]} - 1; i >= 0; i--)); do
		eval "${BED_ATEXIT[i]}" >/dev/null 2>&1 || true
	done
	for ((i = ${#BED_PIDS[@]} - 1; i >= 0; i--)); do
		entry=${BED_PIDS[i]}
		bed_stop_pid "${entry%% *}" "${entry#* }"
	done
	rm -f "$BED_T/pids" "$BED_T/sockdir"
	[ -n "$BED_SOCK" ] && rm -rf "$BED_SOCK"
	for entry in "${BED_PORTS[@]}"; do
		rm -rf "$entry"
	done
	if [ -n "$BED_T" ] && [ -d "$BED_T" ]; then
		if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; then
			bed_log "exit $rc: scratch dir kept: $BED_T"
		elif [ "${ZX_KEEP:-0}" != 1 ]; then
			rm -rf "$BED_T"
		fi
	fi
	exit "$rc"
}

# bed_track PID [NAME]: stop PID at exit. Also listed in $BED_T/pids, so that
# tests/run-all.sh can stop it should the test itself be killed (ctest timeout).
bed_track()
{
	BED_PIDS+=("$1 ${2:-$1}")
	if [ -n "$BED_T" ]; then
		echo "$1 ${2:-$1}" >>"$BED_T/pids"
	fi
}

# bed_untrack PID: forget PID (it was stopped on purpose).
bed_untrack()
{
	local i
	for i in "${!BED_PIDS[@]}"; do
		[ "${BED_PIDS[i]%% *}" = "$1" ] && unset 'BED_PIDS[i]'
	done
	BED_PIDS=("${BED_PIDS[@]}")
}

# bed_on_exit "COMMAND...": run at exit (before the tracked PIDs are stopped).
bed_on_exit() { BED_ATEXIT+=("$*"); }

# bed_spawn NAME CMD...: start CMD in the background in its own session, stdout
# and stderr to $BED_T/NAME.out; sets BED_PID; tracked for the cleanup.
bed_spawn()
{
	local name=$1
	shift
	setsid "$@" >"$BED_T/$name.out" 2>&1 </dev/null &
	BED_PID=$!
	bed_track "$BED_PID" "$name"
}

# bed_wait_for SECONDS CMD...: run CMD every 0.1 s until it succeeds; 1 on timeout.
bed_wait_for()
{
	local secs=$1 end
	shift
	end=$((SECONDS + secs))
	while ! "$@" >/dev/null 2>&1; do
		if [ "$SECONDS" -ge "$end" ]; then
			return 1
		fi
		sleep 0.1
	done
}

# bed_port_free PORT: no socket on PORT (TCP or UDP, any state, any address). Not only
# listeners: the bed's ports lie in the kernel's ephemeral range, and a connection (or
# its TIME_WAIT) holding the port as its local end makes a daemon's bind fail; BIND
# 9.18 then retries its TCP listeners (DNS, TLS, control) seconds later, silently.
bed_port_free()
{
	! ss -Htuan "sport = :$1" 2>/dev/null | grep -q .
}

# bed_port: print a free port, reserved until this test exits.
bed_port()
{
	local lo hi p tries lockdir=$ZX_BED_DIR/ports
	read -r lo hi <<<"${ZX_BED_PORTS:-19100 19999}"
	mkdir -p "$lockdir"
	for ((tries = 0; tries < 500; tries++)); do
		p=$((lo + RANDOM % (hi - lo + 1)))
		# A lock left by a dead test (its pid gone) is stale.
		if [ -d "$lockdir/$p" ] && ! kill -0 "$(cat "$lockdir/$p/pid" 2>/dev/null || echo 0)" 2>/dev/null; then
			rm -rf "$lockdir/$p"
		fi
		if bed_port_free "$p" && mkdir "$lockdir/$p" 2>/dev/null; then
			echo $$ >"$lockdir/$p/pid"
			echo "$p"
			return 0
		fi
	done
	bed_die "no free port in $lo-$hi"
}

# bed_port_keep PORT: register a port printed by bed_port in a subshell
# ($(bed_port) cannot touch the caller's arrays) so it is freed at exit.
bed_port_keep()
{
	BED_PORTS+=("$ZX_BED_DIR/ports/$1")
}

# bed_ports N VAR...: reserve N ports into the named variables.
#   bed_ports 2 knot_port named_port
bed_ports()
{
	local n=$1 p
	shift
	while [ "$n" -gt 0 ]; do
		p=$(bed_port)
		bed_port_keep "$p"
		printf -v "$1" '%s' "$p"
		shift
		n=$((n - 1))
	done
}

# bed_need_kafka: the bed's Kafka env (ZX_KAFKA_BOOTSTRAP, ZX_KAFKA_KIND) or skip.
bed_need_kafka()
{
	if [ -z "${ZX_KAFKA_BOOTSTRAP:-}" ] && [ -f "$ZX_BED_DIR/kafka.env" ]; then
		set -a
		# shellcheck disable=SC1091
		. "$ZX_BED_DIR/kafka.env"
		set +a
	fi
	if [ -z "${ZX_KAFKA_BOOTSTRAP:-}" ]; then
		bed_skip "no Kafka (ZX_KAFKA_BOOTSTRAP unset; run tests/bed/kafka.sh start)"
	fi
	bed_log "Kafka: ${ZX_KAFKA_KIND:-?} at $ZX_KAFKA_BOOTSTRAP"
}

# bed_tool NAME: path of a bed tool built in $ZX_BUILD (zonegen, zxkafka, kafka_mock).
bed_tool()
{
	local p=$ZX_BUILD/tests/bed/$1
	[ -x "$p" ] || bed_die "$p not built (cmake --build $ZX_BUILD --target bed_tools)"
	echo "$p"
}

# bed_zone_canon FILE: canonical text of a zone (file or AXFR output): absolute
# lowercase names, one RR a line, TTLs kept, sorted, duplicates (the AXFR's
# closing SOA) dropped. Comments and blank lines are ignored.
bed_zone_canon()
{
	ldns-read-zone -c "$1" 2>/dev/null | LC_ALL=C sort -u
}

# bed_axfr HOST PORT ZONE [KEY]: the zone by AXFR, canonical (KEY as kdig -y:
# alg:name:secret). Fails when the transfer fails. BED_KDIG_FROM=ADDR: from that source.
bed_axfr()
{
	local host=$1 port=$2 zone=$3 key=${4:-} out
	local ky=()
	[ -n "$key" ] && ky=(-y "$key")
	out=$(mktemp "${BED_T:-/tmp}/axfr.XXXXXX")
	if ! kdig ${BED_KDIG_FROM:+-b "$BED_KDIG_FROM"} @"$host" -p "$port" "${ky[@]}" +noall +answer \
		+tcp AXFR "$zone" >"$out" ||
		! grep -q . "$out" || grep -q '^;; ' "$out"; then
		cat "$out" >&2
		rm -f "$out"
		return 1
	fi
	bed_zone_canon "$out"
	rm -f "$out"
}

# bed_zone_compare A B: canonical texts A and B (files) are equal; prints the
# first differences otherwise.
bed_zone_compare()
{
	if ! cmp -s "$1" "$2"; then
		bed_log "zones differ ($1 vs $2):"
		diff "$1" "$2" | head -20 >&2
		return 1
	fi
}

# bed_notify_sink PORT: a NOTIFY receiver on 127.0.0.1:PORT (UDP and TCP,
# tests/bed/notify_sink.py); each message it gets is a line in $BED_SINK_LOG:
# "udp|tcp opcode=4 qname=example.test. id=N tsig=yes|no". Stopped at exit.
bed_notify_sink()
{
	BED_SINK_LOG=$BED_T/notify-$1.log
	bed_spawn "notify-sink-$1" python3 "$ZX_SRC/tests/bed/notify_sink.py" "$1" "$BED_SINK_LOG"
	bed_wait_for 10 bash -c "ss -Htln 'sport = :$1' | grep -q ." ||
		bed_die "notify sink did not listen on $1"
}
