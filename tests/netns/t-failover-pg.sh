#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# t-failover.sh with the nodes sharing a PostgreSQL store (issue 15's
# acceptance: a client failing over from a killed node to the other, with
# the same tunnel address and no new code, on the store the cluster uses).
FAILOVER_STORE=postgresql exec "$(dirname "$0")/t-failover.sh"
