#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A TransferRequest and a ZoneUpdated go through the bed's broker and come back
# with their fields; a consumer group's commit shows in the offsets.
set -euo pipefail
. "$ZX_SRC/tests/bed/lib.sh"
bed_init kafka_roundtrip
bed_need_kafka

zxk=$(bed_tool zxkafka)
b=$ZX_KAFKA_BOOTSTRAP
topic=bed.roundtrip.$$.$RANDOM
bed_on_exit "'$zxk' delete-topic '$b' '$topic'"

"$zxk" create-topic "$b" "$topic" 3 | grep -q "partitions=3 created" || bed_die "create-topic"
"$zxk" create-topic "$b" "$topic" 3 | grep -q "partitions=3 exists" || bed_die "create-topic again"

# A request: key and zone canonical, the serial hint kept, origin operator.
prod=$("$zxk" produce-request "$b" "$topic" Example.ORG 4294967295)
bed_log "$prod"
part=$(sed -n 's/^produced partition=\([0-9]*\) offset=\([0-9]*\) .*/\1/p' <<<"$prod")
off=$(sed -n 's/^produced partition=\([0-9]*\) offset=\([0-9]*\) .*/\2/p' <<<"$prod")
[ -n "$part" ] && [ "$off" = 0 ] || bed_die "unexpected produce result: $prod"
got=$("$zxk" consume "$b" "$topic" --count 1 --timeout 30 --from-beginning)
bed_log "$got"
want="partition=$part offset=0 key=example.org. zone=example.org. origin=ORIGIN_OPERATOR serial=4294967295"
[ "$got" = "$want" ] || bed_die "consumed '$got', wanted '$want'"

# A request without a serial hint: no serial field.
"$zxk" produce-request "$b" "$topic" example.org >/dev/null
got=$("$zxk" consume "$b" "$topic" --count 2 --timeout 30 --from-beginning | tail -1)
[[ "$got" == *" key=example.org. zone=example.org. origin=ORIGIN_OPERATOR" ]] || bed_die "no-serial request: '$got'"

# A ZoneUpdated on its own topic, decoded as one.
utopic=$topic.updates
bed_on_exit "'$zxk' delete-topic '$b' '$utopic'"
"$zxk" create-topic "$b" "$utopic" 2 >/dev/null
"$zxk" produce-update "$b" "$utopic" b.test 7 >/dev/null
got=$("$zxk" consume "$b" "$utopic" --count 1 --timeout 30 --from-beginning --type update)
bed_log "$got"
[[ "$got" == *" key=b.test. zone=b.test. kind=UPDATE_KIND_COMMITTED method=METHOD_AXFR serial=7 "* ]] ||
	bed_die "update: '$got'"

# A group consumes both requests and commits: committed == high watermark.
"$zxk" consume "$b" "$topic" --count 2 --timeout 60 --from-beginning --group g.$topic >/dev/null
offs=$("$zxk" offsets "$b" "g.$topic" "$topic")
bed_log "$offs"
[ "$(grep -c . <<<"$offs")" = 3 ] || bed_die "offsets: 3 partitions expected"
line=$(grep "^partition=$part " <<<"$offs")
[ "$line" = "partition=$part committed=2 low=0 high=2" ] || bed_die "offsets of partition $part: '$line'"
bed_log "PASS ($ZX_KAFKA_KIND ${ZX_KAFKA_VERSION:-})"
