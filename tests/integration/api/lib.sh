# SPDX-License-Identifier: MIT
# tests/integration/api/lib.sh -- one xfrd with its REST API against the bed's Kafka and
# a knotd primary. Source after tests/bed/lib.sh and tests/integration/pipeline/lib.sh:
#
#   api_init NAME ZONE...    Kafka topics (a compacted registry topic $API_REG), a knotd
#                            serving every ZONE on $PL_KNOT_PORT, the tokens file
#                            $API_TOKENS (admin: write $API_ADMIN, viewer: read
#                            $API_VIEWER), the config $API_CONF with file.test as its
#                            one file zone; xfrd started (ready); $API_URL, $API_DNS
#   api_call METHOD PATH [CURL ARGS...]
#                            curl with the admin's token: status in $API_STATUS, body
#                            in $BED_T/body, headers in $BED_T/headers
#   api_header NAME          a header of the last answer
#   api_json EXPR            python3: EXPR of the last body (as "j")

API_ADMIN=adm1n-Token-0123456789-abcdefgh
API_VIEWER=v1ewer-Token-0123456789-abcdefgh

api_init()
{
	local name=$1 ports
	shift
	ports=${ZX_BED_PORTS:-}
	pl_init "$name" 4
	[ -n "$ports" ] && export ZX_BED_PORTS=$ports # pl_init's range is the pipeline tests'
	API_REG="api.$name.$$.zones"
	"$ZXKAFKA" create-topic "$ZX_KAFKA_BOOTSTRAP" "$API_REG" 2 --compact >/dev/null ||
		bed_die "create topic $API_REG"
	bed_on_exit "'$ZXKAFKA' delete-topic '$ZX_KAFKA_BOOTSTRAP' '$API_REG' >/dev/null 2>&1"
	bed_ports 3 API_KNOT API_DNS API_HTTP
	pl_knot "$API_KNOT" file.test "$@"
	API_TOKENS=$BED_T/tokens
	printf '# name scope token\nadmin write %s\nviewer read %s  # dashboards\n' \
		"$API_ADMIN" "$API_VIEWER" >"$API_TOKENS"
	chmod 600 "$API_TOKENS"
	API_CONF=$BED_T/zx.yaml
	cat >"$API_CONF" <<YAML
log: { level: info }
kafka:
  brokers: "$ZX_KAFKA_BOOTSTRAP"
  requests-topic: $PL_REQ
  updates-topic: $PL_UPD
  group: $PL_GROUP
  settings: { "session.timeout.ms": "6000", "heartbeat.interval.ms": "500" }
keys:
  - { name: xfr-key, algorithm: hmac-sha256, secret: "Zm9vYmFyLWV4YW1wbGUtc2VjcmV0LWRvLW5vdC11c2U=" }
registry: { topic: $API_REG, purge-after: 1h }
xfrd:
  replica: api-0
  store: $BED_T/api-0.lmdb
  store-size: 256M
  listen: [ "127.0.0.1@$API_DNS" ]
  http: "127.0.0.1:$API_HTTP"
  timeouts: $PL_TIMEOUTS
  api: { tokens: tokens, allow: [ "127.0.0.1" ] }
zones:
  - { name: file.test, primaries: [ "127.0.0.1@$API_KNOT" ] }
YAML
	API_URL="http://127.0.0.1:$API_HTTP"
	pl_xfrd api-0 "$API_CONF"
	API_PID=$BED_PID
	bed_wait_for 60 curl -sf "$API_URL/ready" ||
		bed_die "xfrd not ready: $(curl -s "$API_URL/ready"; tail -5 "$BED_T/api-0.out")"
}

api_call()
{
	local method=$1 path=$2 a ctype=(-H 'Content-Type: application/json')
	shift 2
	for a in "$@"; do
		case "$a" in [Cc]ontent-[Tt]ype:*) ctype=() ;; esac
	done
	API_STATUS=$(curl -s -o "$BED_T/body" -D "$BED_T/headers" -w '%{http_code}' -X "$method" \
		-H "Authorization: Bearer $API_ADMIN" "${ctype[@]}" "$@" "$API_URL$path")
}

api_header()
{
	awk -v h="$1" 'BEGIN {IGNORECASE = 1} tolower($0) ~ "^" tolower(h) ":" {
		sub(/^[^:]*: */, ""); sub(/\r$/, ""); print; exit }' "$BED_T/headers"
}

api_json()
{
	python3 -c "import json,sys; j = json.load(open(sys.argv[1])); print(($1))" "$BED_T/body"
}

# api_expect STATUS METHOD PATH [CURL ARGS...]: api_call, then the status must be STATUS.
api_expect()
{
	local want=$1
	shift
	api_call "$@"
	[ "$API_STATUS" = "$want" ] ||
		bed_die "$1 $2: status $API_STATUS, want $want: $(cat "$BED_T/body")"
}
