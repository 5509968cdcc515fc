#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The storm without static membership: each SIGKILLed replica's partitions reach
# its successor through a cooperative rebalance once its session times out.
export STORM_STATIC=0 STORM_ROUNDS=${STORM_ROUNDS:-3}
exec bash "$ZX_SRC/tests/integration/pipeline/storm.sh"
