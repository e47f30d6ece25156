#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# t-cluster-sessions.sh with the nodes sharing a PostgreSQL store (issue
# 15: `vpnctl sessions --cluster` on the store a cluster uses; a dead
# node aging out by the database server's clock).
CLUSTER_STORE=postgresql exec "$(dirname "$0")/t-cluster-sessions.sh"
