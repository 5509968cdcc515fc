#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# An idle xfrd stays in its consumer group: librdkafka counts max.poll.interval.ms from
# the consumer's last poll, so a consumer that polls only when a message wakes it leaves
# the group when nothing comes for that long (every partition lost, the group
# rebalances). With max.poll.interval.ms at 7 s, 20 idle seconds must not cost a
# partition.
set -euo pipefail
. "$ZX_SRC/tests/bed/lib.sh"
. "$ZX_SRC/tests/integration/pipeline/lib.sh"
pl_init pl_idle 4
bed_ports 2 kport h0
pl_knot "$kport" idle.test
PL_SETTINGS=', "max.poll.interval.ms": "7000"'
pl_config "$BED_T/x0.yaml" x0 "$h0" "$kport" "" -- idle.test
pl_xfrd x0 "$BED_T/x0.yaml"
bed_wait_for 60 curl -fs "http://127.0.0.1:$h0/ready" || bed_die "x0 not ready: $(curl -s "http://127.0.0.1:$h0/ready")"
bed_wait_for 30 sh -c "'$PLTOOL' zones '$BED_T/x0.lmdb' | grep -q '^idle.test. 1 '" || bed_die "idle.test not transferred"
sleep 20
! grep -q 'MAXPOLL\|partition_lost\|maximum poll interval' "$BED_T/x0.out" ||
	bed_die "the idle consumer left its group: $(grep -m1 'MAXPOLL\|partition_lost\|maximum poll' "$BED_T/x0.out")"
[ "$(grep -c partition_assigned "$BED_T/x0.out")" = 4 ] ||
	bed_die "partitions assigned again: $(grep -c partition_assigned "$BED_T/x0.out")"
curl -fs "http://127.0.0.1:$h0/ready" >/dev/null || bed_die "not ready after idling"
bed_log "idle 20 s with max.poll.interval.ms 7000: still in the group, 4 partitions"
