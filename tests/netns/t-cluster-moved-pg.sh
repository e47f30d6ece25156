#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# t-cluster-moved.sh with the nodes sharing a PostgreSQL store (issue 15:
# the session-moved event committed with the session that takes the key,
# read by the node left behind through LISTEN/NOTIFY; a roam recorded).
MOVED_STORE=postgresql exec "$(dirname "$0")/t-cluster-moved.sh"
