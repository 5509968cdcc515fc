#!/usr/bin/env bash
# tests/integration/store/xfrctl.sh -- xfrctl over a store written by the zone store.
#
# Writes a zonegen zone (generation order, so the store sorts) as one AXFR and one IXFR
# with bench_zdb, then checks `xfrctl zones/show/dump` (text and JSON) and the exit
# codes scripts rely on; `dump` must equal the zone itself (both sorted by ldns-read-zone).
set -euo pipefail
build=${ZX_BUILD:?ZX_BUILD not set}
xfrctl=$build/xfrd/xfrctl
bench=$build/tests/bench/store/bench_zdb
zonegen=$build/tests/bed/zonegen
for b in "$xfrctl" "$bench" "$zonegen"; do
	[ -x "$b" ] || { echo "SKIP: $b not built (cmake --build $build)"; exit 77; }
done
command -v ldns-read-zone >/dev/null || { echo "SKIP: ldns-read-zone (ldnsutils) missing"; exit 77; }
work=$(mktemp -d /tmp/store_xfrctl.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }
expect_rc() { # expect_rc RC CMD...
	local want=$1 rc=0; shift
	"$@" >out.txt 2>err.txt || rc=$?
	[ "$rc" = "$want" ] || fail "$* exited $rc, want $want: $(cat err.txt)"
}

"$zonegen" -n 3000 -z big.test. > zone.txt
"$bench" prep -n 3000 -o z.bin >/dev/null
"$bench" axfr -s store -i z.bin --sync none >/dev/null

# zones, text and JSON
expect_rc 0 "$xfrctl" --store store zones
grep -Eq '^big\.test\. +fresh +1 ' out.txt || fail "zones: $(cat out.txt)"
grep -Eq '^other\.test\. +failed ' out.txt || fail "zones lists a zone without data"
expect_rc 0 "$xfrctl" --store store --json zones
python3 - out.txt <<'PY'
import json, sys
z = json.load(open(sys.argv[1]))
assert [x["zone"] for x in z] == ["big.test.", "other.test."], z
assert z[0]["serial"] == 1 and z[0]["records"] == 3005 and z[0]["state"] == "fresh", z[0]
assert z[1]["loaded"] is False and z[1]["serial"] is None, z[1]
PY

# dump equals the zone (sorted by ldns on both sides)
expect_rc 0 "$xfrctl" --store store dump big.test
head -1 out.txt | grep -q 'SOA' || fail "dump does not start with the SOA"
[ "$(wc -l < out.txt)" = 3005 ] || fail "dump has $(wc -l < out.txt) lines"
ldns-read-zone -z out.txt 2>/dev/null > dump.sorted
ldns-read-zone -z zone.txt 2>/dev/null > zone.sorted
diff -q dump.sorted zone.sorted >/dev/null || fail "dump differs: $(diff dump.sorted zone.sorted | head -5)"

# an IXFR of 5 changed A records: serial 2, journal of one changeset, same size
"$bench" ixfr -s store -n 5 -r 1 --sync none >/dev/null
expect_rc 0 "$xfrctl" --store store show big.test
grep -q '^serial: *2$' out.txt || fail "show after IXFR: $(cat out.txt)"
grep -q '^journal: *1 changesets, [0-9]* bytes, serials 1 to 2$' out.txt || fail "journal: $(cat out.txt)"
expect_rc 0 "$xfrctl" --store store --json show big.test
python3 - out.txt <<'PY'
import json, sys
z = json.load(open(sys.argv[1]))
assert z["serial"] == 2 and z["records"] == 3005, z
assert z["journal"] == {"changesets": 1, "bytes": z["journal"]["bytes"], "from_serial": 1, "to_serial": 2}, z
assert z["soa"].startswith("big.test. 3600 IN SOA "), z["soa"]
PY
expect_rc 0 "$xfrctl" --store store dump big.test
[ "$(wc -l < out.txt)" = 3005 ] || fail "dump after IXFR has $(wc -l < out.txt) lines"

# through the configuration file
printf 'xfrd:\n  store: %s/store\n' "$work" > zx.yaml
expect_rc 0 "$xfrctl" -c zx.yaml show big.test

# exit codes
expect_rc 1 "$xfrctl" --store store show nothere.test
expect_rc 1 "$xfrctl" --store store dump other.test
expect_rc 2 "$xfrctl" --store store frobnicate
expect_rc 2 "$xfrctl" --store store show
expect_rc 2 "$xfrctl" --store store show 'a..b'
expect_rc 2 "$xfrctl" --bogus zones
expect_rc 3 "$xfrctl" --store "$work/none" zones
expect_rc 3 "$xfrctl" -c "$work/none.yaml" zones
expect_rc 0 "$xfrctl" --help
grep -q 'exit status' out.txt || fail "--help does not document the exit status"
echo "OK: xfrctl zones/show/dump, JSON, exit codes"
