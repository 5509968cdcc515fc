#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/integration/api/api.sh -- the REST API of the zone registry against a real xfrd
# (Kafka mode, the bed's broker) and a real knotd primary:
#   - a zone PUT through the API is transferred within seconds (kdig AXFR from xfrd's
#     endpoint equals knotd's); GET shows it with its ETag; the access log and
#     xfrd_api_requests_total count the write;
#   - PUT replace, If-Match / If-None-Match (412), PATCH (merge patch), two writers with
#     the same stale ETag (one 200, one 412); DELETE (204): the zone is no longer served
#     (REFUSED/NOTAUTH), GET is 404, it is listed with ?state=removed, its status says
#     removed-at;
#   - bad bodies: 422 naming every bad field (an unknown key, a bad endpoint, a bad
#     duration, an unknown TSIG key), 400 with line/column, 413, 415, a body naming
#     another zone; file zones: 409;
#   - access: no token 401 (WWW-Authenticate: Bearer), an unknown one 401, a read token
#     writing 403, a source outside xfrd.api.allow (127.0.0.2) 403; tokens reloaded on
#     SIGHUP (a bad file keeps the old ones and says file:line), so is xfrd.api.allow,
#     turning the API off is refused; a bad tokens file stops xfrd at start with file:line;
#   - paging (limit, after, next), filters (source, state); status; refresh and
#     retransfer (202, and the new serial arrives); 404 / 405 problems;
#   - xfrctl zone add|set|rm|list|status through the API: its output, --json, the
#     problem printed, exit codes 0, 1, 2, 5, 6.
set -euo pipefail
. "$ZX_SRC/tests/bed/lib.sh"
. "$ZX_SRC/tests/integration/pipeline/lib.sh"
. "$ZX_SRC/tests/integration/api/lib.sh"
api_init api_main a1.test a2.test a3.test x1.test

zone_body()
{ # zone_body PRIMARY_PORT [EXTRA JSON MEMBERS]
	echo "{\"primaries\": [\"127.0.0.1@$1\"]${2:+, $2}}"
}

served_like_knot()
{ # the zone by AXFR from xfrd equals knotd's
	bed_axfr 127.0.0.1 "$API_DNS" "$1" >"$BED_T/x.$1" 2>/dev/null &&
		bed_axfr 127.0.0.1 "$API_KNOT" "$1" >"$BED_T/k.$1" &&
		cmp -s "$BED_T/x.$1" "$BED_T/k.$1"
}

# ---- access --------------------------------------------------------------------------
bed_log "access: 401 without a token, 401 with an unknown one, 403 for a read token writing"
code=$(curl -s -o "$BED_T/body" -D "$BED_T/headers" -w '%{http_code}' "$API_URL/v1/zones")
[ "$code" = 401 ] || bed_die "no token: $code"
grep -qi '^WWW-Authenticate: Bearer' "$BED_T/headers" || bed_die "401 without WWW-Authenticate"
grep -qi '^Content-Type: application/problem+json' "$BED_T/headers" || bed_die "401 not a problem"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer nope-nope-nope-nope-nope-nope" \
	"$API_URL/v1/zones")
[ "$code" = 401 ] || bed_die "unknown token: $code"
code=$(curl -s -o "$BED_T/body" -w '%{http_code}' -H "Authorization: Bearer $API_VIEWER" \
	"$API_URL/v1/zones")
[ "$code" = 200 ] || bed_die "read token reading: $code"
code=$(curl -s -o "$BED_T/body" -w '%{http_code}' -X PUT -H "Authorization: Bearer $API_VIEWER" \
	-H 'Content-Type: application/json' -d "$(zone_body "$API_KNOT")" "$API_URL/v1/zones/a1.test")
[ "$code" = 403 ] || bed_die "read token writing: $code $(cat "$BED_T/body")"
code=$(curl -s -o "$BED_T/body" -w '%{http_code}' --interface 127.0.0.2 \
	-H "Authorization: Bearer $API_ADMIN" "$API_URL/v1/zones")
[ "$code" = 403 ] || bed_die "source outside xfrd.api.allow: $code"
grep -q '127.0.0.2 is not in xfrd.api.allow' "$BED_T/body" || bed_die "403 does not say why"
for p in /metrics /health /ready; do # the probes stay open
	curl -sf -o /dev/null "$API_URL$p" || bed_die "$p needs a token now"
done

# ---- add a zone: transferred within seconds --------------------------------------------
bed_log "PUT a1.test: 201, then xfrd serves what knotd serves"
t0=$SECONDS
api_expect 201 PUT /v1/zones/a1.test -H 'Content-Type: application/json' -d "$(zone_body "$API_KNOT")"
[ "$(api_header Location)" = /v1/zones/a1.test. ] || bed_die "Location: $(api_header Location)"
etag1=$(api_header ETag)
[[ "$etag1" =~ ^\"[0-9]+:[0-9]+\"$ ]] || bed_die "ETag: $etag1"
[ "$(api_json 'j["updated-by"]')" = admin ] || bed_die "updated-by: $(cat "$BED_T/body")"
bed_wait_for 10 served_like_knot a1.test || bed_die "a1.test not served like knotd's within 10 s"
bed_log "a1.test served $((SECONDS - t0)) s after the PUT"
grep -q 'api_write zone=a1.test. method=PUT token=admin status=201' "$BED_T/api-0.out" ||
	bed_die "no access log line"
curl -s "$API_URL/metrics" | grep -q 'xfrd_api_requests_total{method="PUT",status="201"} 1' ||
	bed_die "xfrd_api_requests_total: $(curl -s "$API_URL/metrics" | grep api_requests)"

api_expect 200 GET /v1/zones/A1.TEST
[ "$(api_header ETag)" = "$etag1" ] || bed_die "GET ETag $(api_header ETag), PUT's $etag1"
[ "$(api_json 'j["primaries"]')" = "['127.0.0.1@$API_KNOT']" ] || bed_die "GET: $(cat "$BED_T/body")"
[ "$(api_json 'j["source"]')" = registry ] || bed_die "source: $(cat "$BED_T/body")"

# ---- replace, conditions, patch ----------------------------------------------------------
bed_log "PUT replace (200), If-None-Match: * (412), stale If-Match (412), PATCH"
api_expect 412 PUT /v1/zones/a1.test -H 'If-None-Match: *' -d "$(zone_body "$API_KNOT")"
api_expect 200 PUT /v1/zones/a1.test -H "If-Match: $etag1" \
	-d "$(zone_body "$API_KNOT" '"refresh": {"min": "5m"}')"
etag2=$(api_header ETag)
[ "$etag2" != "$etag1" ] || bed_die "the ETag did not change"
api_expect 412 PUT /v1/zones/a1.test -H "If-Match: $etag1" -d "$(zone_body "$API_KNOT")"
api_expect 200 PATCH /v1/zones/a1.test -H 'Content-Type: application/merge-patch+json' \
	-H "If-Match: $etag2" -d '{"refresh": null, "notify-from": ["127.0.0.0/8"]}'
[ "$(api_json '"refresh" in j, j["notify-from"], j["primaries"]')" = \
	"(False, ['127.0.0.0/8'], ['127.0.0.1@$API_KNOT'])" ] || bed_die "PATCH: $(cat "$BED_T/body")"
etag3=$(api_header ETag)

bed_log "two writers with the same ETag: one 200, one 412"
racers=()
for i in 1 2; do
	curl -s -o "$BED_T/race$i" -w '%{http_code}\n' -X PATCH -H "Authorization: Bearer $API_ADMIN" \
		-H "If-Match: $etag3" -H 'Content-Type: application/merge-patch+json' \
		-d "{\"retry\": {\"min\": \"${i}m\"}}" "$API_URL/v1/zones/a1.test" >"$BED_T/race$i.code" &
	racers+=($!)
done
wait "${racers[@]}"
codes=$(cat "$BED_T/race1.code" "$BED_T/race2.code" | sort | tr '\n' ' ')
[ "$codes" = "200 412 " ] || bed_die "two writers with one ETag got $codes"

# ---- bad bodies ------------------------------------------------------------------------
bed_log "bad bodies: 422 naming each field, 400 with line/column, 413, 415"
api_expect 422 PUT /v1/zones/a2.test -H 'Content-Type: application/json' \
	-d '{"primaries": ["127.0.0.1@53", "not an address"], "key": "no-such-key", "refresh": {"min": "soon"}, "colour": "blue"}'
names=$(api_json '" ".join(sorted(p["name"] for p in j["invalid-params"]))')
grep -qi '^Content-Type: application/problem+json' "$BED_T/headers" || bed_die "422 not a problem"
[ "$(api_json 'j["type"]')" = urn:zx:problem:invalid-zone ] || bed_die "type: $(cat "$BED_T/body")"
[ "$names" = "colour" ] || bed_die "shape problems first: $names"
api_expect 422 PUT /v1/zones/a2.test \
	-d '{"primaries": ["127.0.0.1@53", "not an address"], "key": "no-such-key", "refresh": {"min": "soon"}}'
names=$(api_json '" ".join(sorted(p["name"] for p in j["invalid-params"]))')
[ "$names" = "key primaries[1] refresh.min" ] || bed_die "invalid-params: $names: $(cat "$BED_T/body")"
api_expect 422 PUT /v1/zones/a2.test -d '{"name": "other.test", "primaries": ["127.0.0.1@53"]}'
[ "$(api_json 'j["invalid-params"][0]["name"]')" = name ] || bed_die "name mismatch: $(cat "$BED_T/body")"
api_expect 422 PUT /v1/zones/a2.test -d '{"primaries": "127.0.0.1@53"}'
api_expect 400 PUT /v1/zones/a2.test -d $'{"primaries":\n ["127.0.0.1@53",]}'
[ "$(api_json 'j["line"], j["column"]')" = "(2, 18)" ] || bed_die "400: $(cat "$BED_T/body")"
head -c 70000 /dev/zero | tr '\0' ' ' >"$BED_T/big"
api_expect 413 PUT /v1/zones/a2.test -H 'Content-Type: application/json' --data-binary @"$BED_T/big"
api_expect 415 PUT /v1/zones/a2.test -H 'Content-Type: text/plain' -d "$(zone_body "$API_KNOT")"
api_expect 404 GET /v1/zones/a2.test
api_expect 404 PATCH /v1/zones/a2.test -d '{}'
api_expect 404 DELETE /v1/zones/a2.test

bed_log "file zones: 409; GET shows them"
api_expect 409 PUT /v1/zones/file.test -d "$(zone_body "$API_KNOT")"
api_expect 409 DELETE /v1/zones/file.test
api_expect 200 GET /v1/zones/file.test
[ "$(api_json 'j["source"]')" = file ] || bed_die "file zone: $(cat "$BED_T/body")"

bed_log "404 and 405 problems"
api_expect 404 GET /v1/nothing
api_expect 404 GET /v1/zones/a1.test/nothing
api_expect 405 POST /v1/zones
[ "$(api_header Allow)" = GET ] || bed_die "Allow: $(api_header Allow)"
api_expect 405 GET /v1/zones/a1.test/refresh
api_expect 400 GET "/v1/zones?limit=0"
api_expect 400 GET "/v1/zones?state=sleepy"

# ---- listing ---------------------------------------------------------------------------
bed_log "paging and filters"
api_expect 201 PUT /v1/zones/a2.test -d "$(zone_body "$API_KNOT")"
api_expect 201 PUT /v1/zones/a3.test -d "$(zone_body "$API_KNOT")"
got="" next="/v1/zones?limit=2"
while [ -n "$next" ]; do
	api_expect 200 GET "$next"
	got+=$(api_json '" ".join(z["name"] for z in j["zones"])')" "
	next=$(api_json 'j["next-href"] or ""')
done
[ "$got" = "a1.test. a2.test. a3.test. file.test. " ] || bed_die "pages: $got"
api_expect 200 GET "/v1/zones?source=file"
[ "$(api_json '[z["name"] for z in j["zones"]]')" = "['file.test.']" ] || bed_die "source=file"
bed_wait_for 10 served_like_knot a3.test || bed_die "a3.test not served"
api_expect 200 GET "/v1/zones?state=fresh&source=registry&after=a1.test."
[ "$(api_json '[z["name"] for z in j["zones"]]')" = "['a2.test.', 'a3.test.']" ] ||
	bed_die "state=fresh after a1: $(cat "$BED_T/body")"

# ---- status, refresh, retransfer -----------------------------------------------------------
bed_log "status; refresh and retransfer (202) bring the new serial"
api_expect 200 GET /v1/zones/a1.test/status
[ "$(api_json 'j["state"], j["serial"], j["owned"], j["replica"], j["source"]')" = \
	"('fresh', 1, True, 'api-0', 'registry')" ] || bed_die "status: $(cat "$BED_T/body")"
[ "$(api_json 'j["next-refresh"] is not None and j["partition"] is not None')" = True ] ||
	bed_die "status: $(cat "$BED_T/body")"
pl_bump a1.test
api_expect 202 POST /v1/zones/a1.test/refresh
bed_wait_for 10 served_like_knot a1.test || bed_die "refresh did not bring serial 2"
api_expect 400 POST "/v1/zones/a1.test/refresh?force=true"
api_expect 202 POST "/v1/zones/a1.test/retransfer?force=true"
[ "$(api_json 'j["request"], j["force"]')" = "('retransfer', True)" ] || bed_die "$(cat "$BED_T/body")"
bed_wait_for 10 grep -q 'zone=a1.test.*origin=retransfer\|origin=retransfer.*zone=a1.test' \
	"$BED_T/api-0.out" || bed_log "note: no retransfer log line seen"
api_expect 404 POST /v1/zones/nowhere.test/refresh

# ---- remove ------------------------------------------------------------------------------
bed_log "DELETE: 204, not served, GET 404, listed as removed"
api_expect 204 DELETE /v1/zones/a2.test
api_expect 404 GET /v1/zones/a2.test
rcode=$(kdig @127.0.0.1 -p "$API_DNS" +timeout=2 +retry=0 SOA a2.test | awk '/status:/ {print $6}')
rcode=${rcode%[,;]}
case "$rcode" in REFUSED | NOTAUTH) ;; *) bed_die "a removed zone answered $rcode" ;; esac
api_expect 200 GET "/v1/zones?state=removed"
[ "$(api_json '[z["name"] for z in j["zones"]]')" = "['a2.test.']" ] || bed_die "removed: $(cat "$BED_T/body")"
api_expect 200 GET /v1/zones/a2.test/status
[ "$(api_json 'j["state"], j["removed-at"] is not None, j["source"]')" = "('removed', True, None)" ] ||
	bed_die "status of a removed zone: $(cat "$BED_T/body")"

# ---- xfrctl zone ---------------------------------------------------------------------
bed_log "xfrctl zone add/set/list/status/rm"
xfrctl=$ZX_BUILD/xfrd/xfrctl
x()
{ # x RC ARGS...: xfrctl with the admin's token, stdout in $BED_T/out, stderr in $BED_T/err
	local want=$1 rc=0
	shift
	ZX_API_TOKEN=$API_ADMIN "$xfrctl" "$@" >"$BED_T/out" 2>"$BED_T/err" || rc=$?
	[ "$rc" = "$want" ] || bed_die "xfrctl $* exited $rc, want $want: $(cat "$BED_T/out" "$BED_T/err")"
}
x 0 -c "$API_CONF" zone add x1.test --primary "127.0.0.1@$API_KNOT"
grep -q '^zone x1.test added etag="[0-9]*:[0-9]*"$' "$BED_T/out" || bed_die "add: $(cat "$BED_T/out")"
bed_wait_for 10 served_like_knot x1.test || bed_die "x1.test added by xfrctl not served"
x 5 -c "$API_CONF" zone add x1.test --primary "127.0.0.1@$API_KNOT"
grep -q '412 Precondition Failed' "$BED_T/err" && grep -q 'xfrctl zone set' "$BED_T/err" ||
	bed_die "add twice: $(cat "$BED_T/err")"
x 5 -c "$API_CONF" zone add x2.test --primary nowhere --key nokey
grep -q '^  primaries\[0\]: ' "$BED_T/err" && grep -q '^  key: ' "$BED_T/err" ||
	bed_die "add invalid: $(cat "$BED_T/err")"
x 0 -c "$API_CONF" zone set x1.test refresh.min=5m notify-from=127.0.0.0/8,10.0.0.0/8
x 0 -c "$API_CONF" --json zone set x1.test refresh.max=2h
python3 - "$BED_T/out" <<'PY' || bed_die "set --json: $(cat "$BED_T/out")"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["refresh"] == {"min": "5m", "max": "2h"}, j
assert j["notify-from"] == ["127.0.0.0/8", "10.0.0.0/8"], j
assert j["updated-by"] == "admin", j
PY
x 0 -c "$API_CONF" zone set x1.test refresh=
x 5 -c "$API_CONF" zone set x1.test key=nokey
grep -q '^  key: ' "$BED_T/err" || bed_die "set key=nokey: $(cat "$BED_T/err")"
x 5 -c "$API_CONF" zone set x1.test --if-match '"0:0"' retry.min=1m
echo '{"primaries": ["127.0.0.1@'"$API_KNOT"'"], "notify-keys": []}' >"$BED_T/x3.json"
x 0 --api "$API_URL" zone add x3.test --json - <"$BED_T/x3.json"
x 0 -c "$API_CONF" zone list
head -1 "$BED_T/out" | grep -q '^ZONE  *SOURCE  *STATE  *SERIAL  *NEXT-REFRESH  *EXPIRE-AT  *PROBLEM$' ||
	bed_die "list header"
grep -Eq '^x1.test\.  *registry  *fresh  *1  *20[0-9-]+T[0-9:]+Z  *20[0-9-]+T[0-9:]+Z  *-$' "$BED_T/out" ||
	bed_die "list: $(cat "$BED_T/out")"
x 0 -c "$API_CONF" --json zone list --source file
[ "$(python3 -c 'import json,sys; print([z["name"] for z in json.load(open(sys.argv[1]))])' "$BED_T/out")" = \
	"['file.test.']" ] || bed_die "list --json --source file: $(cat "$BED_T/out")"
x 0 -c "$API_CONF" zone status x1.test
grep -q '^state: *fresh$' "$BED_T/out" && grep -q '^owner: .*(asked replica api-0)$' "$BED_T/out" ||
	bed_die "status: $(cat "$BED_T/out")"
x 0 -c "$API_CONF" --json zone status x1.test
[ "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["serial"])' "$BED_T/out")" = 1 ] ||
	bed_die "status --json: $(cat "$BED_T/out")"
x 1 -c "$API_CONF" zone status nowhere.test
x 0 -c "$API_CONF" zone rm x3.test
x 0 -c "$API_CONF" zone rm x1.test
grep -q '^zone x1.test removed$' "$BED_T/out" || bed_die "rm: $(cat "$BED_T/out")"
x 1 -c "$API_CONF" zone rm x1.test
x 5 -c "$API_CONF" zone rm file.test
grep -q '409 Conflict' "$BED_T/err" || bed_die "rm file zone: $(cat "$BED_T/err")"
printf '# the viewer\n%s\n' "$API_VIEWER" >"$BED_T/viewer.token"
x 5 -c "$API_CONF" --token-file "$BED_T/viewer.token" zone add x2.test --primary 127.0.0.1@53
grep -q '403 Forbidden' "$BED_T/err" || bed_die "read token: $(cat "$BED_T/err")"
rc=0
env -u ZX_API_TOKEN "$xfrctl" -c "$API_CONF" zone list >/dev/null 2>"$BED_T/err" || rc=$?
[ "$rc" = 2 ] && grep -q 'no token' "$BED_T/err" || bed_die "no token: rc $rc $(cat "$BED_T/err")"
x 2 -c "$API_CONF" zone add x2.test
x 2 -c "$API_CONF" zone frob x2.test
x 6 --api "http://127.0.0.1:$(bed_port)" zone list
grep -q 'the API did not answer' "$BED_T/err" || bed_die "API down: $(cat "$BED_T/err")"

# ---- a record this replica cannot resolve; a registry not caught up ----------------------
bed_log "a record whose key a reload took away shows its problem"
api_expect 200 PATCH /v1/zones/a3.test -d '{"notify-keys": ["xfr-key"]}'
cp "$API_CONF" "$BED_T/zx.keep"
sed -i '/^keys:/,+1d' "$API_CONF"
kill -HUP "$API_PID"
bed_wait_for 10 grep -q 'registry_zone_invalid zone=a3.test.' "$BED_T/api-0.out" ||
	bed_die "the reload did not find a3.test's key missing"
api_expect 200 GET /v1/zones/a3.test
api_json 'j["problem"]' | grep -q '^notify-keys\[0\]: key "xfr-key"' ||
	bed_die "problem: $(cat "$BED_T/body")"
api_expect 200 GET "/v1/zones?source=registry"
[ "$(api_json '[z["name"] for z in j["zones"] if "problem" in z]')" = "['a3.test.']" ] ||
	bed_die "list problem: $(cat "$BED_T/body")"
api_expect 200 GET /v1/zones/a3.test/status
[ "$(api_json '"problem" in j')" = True ] || bed_die "status problem: $(cat "$BED_T/body")"
cp "$BED_T/zx.keep" "$API_CONF"
kill -HUP "$API_PID"
bed_wait_for 10 sh -c "curl -s -H 'Authorization: Bearer $API_ADMIN' $API_URL/v1/zones/a3.test |
	grep -vq problem" || bed_die "the problem stays after the key came back"

bed_log "503 and Retry-After while the registry is not read to its end"
bed_ports 2 U_DNS U_HTTP
sed -e "s|replica: api-0|replica: api-2|; s|api-0.lmdb|api-2.lmdb|; s|@$API_DNS|@$U_DNS|" \
	-e "s|:$API_HTTP|:$U_HTTP|; s|topic: $API_REG|topic: $API_REG.missing|" \
	-e "s|group: $PL_GROUP|group: $PL_GROUP.2|" "$API_CONF" >"$BED_T/zx2.yaml"
pl_xfrd api-2 "$BED_T/zx2.yaml"
api2=$BED_PID
bed_wait_for 30 curl -s -o /dev/null "http://127.0.0.1:$U_HTTP/health" || bed_die "api-2 no HTTP"
# until the broker answered the registry's metadata, the detail says it waits for it
bed_wait_for 30 sh -c "curl -s -H 'Authorization: Bearer $API_ADMIN' http://127.0.0.1:$U_HTTP/v1/zones/a1.test | grep -q 'missing missing'" ||
	bed_die "api-2 never said the registry topic is missing"
for m in GET PUT; do
	data=()
	[ $m = PUT ] && data=(-d '{"primaries": ["127.0.0.1@53"]}')
	code=$(curl -s -o "$BED_T/body" -D "$BED_T/headers" -w '%{http_code}' -X $m \
		-H "Authorization: Bearer $API_ADMIN" -H 'Content-Type: application/json' \
		"${data[@]}" "http://127.0.0.1:$U_HTTP/v1/zones/a1.test")
	[ "$code" = 503 ] && [ "$(api_header Retry-After)" = 1 ] ||
		bed_die "$m while not caught up: $code $(cat "$BED_T/headers" "$BED_T/body")"
	api_json 'j["detail"]' | grep -q "registry topic $API_REG.missing missing" ||
		bed_die "503 does not say why: $(cat "$BED_T/body")"
done
bed_stop_pid "$api2" api-2
rm -f "$BED_T/api-2.pid"

# ---- tokens reloaded on SIGHUP -----------------------------------------------------------
bed_log "SIGHUP: new tokens; a bad file keeps the old ones"
new=n3w-Token-0123456789-abcdefghij
printf 'ops write %s\n' "$new" >"$API_TOKENS"
kill -HUP "$API_PID"
bed_wait_for 10 grep -q api_tokens_reloaded "$BED_T/api-0.out" || bed_die "no reload"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $new" "$API_URL/v1/zones")
[ "$code" = 200 ] || bed_die "new token: $code"
api_expect 401 GET /v1/zones
printf 'ops write %s\nbroken line\n' "$new" >"$API_TOKENS"
kill -HUP "$API_PID"
bed_wait_for 10 grep -q "api_tokens_reload_failed.*tokens:2: expected" "$BED_T/api-0.out" ||
	bed_die "bad tokens file: $(grep api_tokens "$BED_T/api-0.out")"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $new" "$API_URL/v1/zones")
[ "$code" = 200 ] || bed_die "the old tokens are gone after a bad reload: $code"

bed_log "SIGHUP: a new xfrd.api.allow; turning the API off is refused"
sed -i 's|allow: \[ "127.0.0.1" \]|allow: [ "127.0.0.1", "127.0.0.2" ]|' "$API_CONF"
kill -HUP "$API_PID"
bed_wait_for 10 sh -c "curl -s -o /dev/null -w '%{http_code}' --interface 127.0.0.2 \
	-H 'Authorization: Bearer $new' $API_URL/v1/zones | grep -q 200" ||
	bed_die "127.0.0.2 still refused after the reload"
sed -i 's|api: { tokens: tokens, |api: { |' "$API_CONF"
kill -HUP "$API_PID"
bed_wait_for 10 grep -q 'reload_refused.*fields=xfrd.api.tokens' "$BED_T/api-0.out" ||
	bed_die "turning the API off at a reload was not refused: $(grep reload "$BED_T/api-0.out" | tail -2)"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $new" "$API_URL/v1/zones")
[ "$code" = 200 ] || bed_die "the API after a refused reload: $code"
sed -i 's|api: { |api: { tokens: tokens, |' "$API_CONF"

bed_log "a bad tokens file at start: xfrd exits naming file:line"
sed "s|api-0|api-1|g; s|@$API_DNS|@$(bed_port)|; s|:$API_HTTP|:$(bed_port)|" "$API_CONF" >"$BED_T/zx1.yaml"
rc=0
timeout 20 "$XFRD" -c "$BED_T/zx1.yaml" --pipeline >"$BED_T/bad-start.out" 2>&1 || rc=$?
[ "$rc" != 0 ] && [ "$rc" != 124 ] || bed_die "xfrd started with a bad tokens file (rc $rc)"
grep -q "tokens:2: expected \\\\\"NAME SCOPE TOKEN\\\\\"" "$BED_T/bad-start.out" ||
	grep -q 'tokens:2: expected' "$BED_T/bad-start.out" || bed_die "no file:line: $(cat "$BED_T/bad-start.out")"
bed_log "ok"
