/* SPDX-License-Identifier: MIT */
/*
 * Where vpnd's metrics leave it (metrics.h renders them). The snapshot
 * reads the running server's numbers, for `vpnctl metrics` and the rest.
 * While the loop runs, the HTTP endpoint (metrics-listen, httpd.c) gets a
 * fresh text when a scrape asks for one, and the node_exporter textfile
 * (metrics-textfile, textfile.c) one every metrics-interval. All of this
 * runs on the loop's thread; the HTTP and textfile threads are handed
 * text, never the server.
 *
 * One per process, as vpnd runs one server: its state is private to
 * exporter.c.
 */
#ifndef VPND_EXPORTER_H
#define VPND_EXPORTER_H

struct server;
struct metrics_snapshot;

/*
 * Fills m from s: the pools' counts, the counters, and a scan of every
 * peer for its traffic and drops. Costs a pass over the peer table: call
 * it per scrape, never per packet. Reads s->now_ns and s->wall_ns as they
 * are (server_clock first).
 */
void exporter_snapshot(struct server *s, struct metrics_snapshot *m);

/*
 * Starts what the configuration asks for, on s's loop: the HTTP endpoint,
 * and the textfile (written once now, so a path vpnd cannot write fails
 * the start, and then every metrics-interval). Nothing if neither is set.
 * 0 or -errno after logging why.
 */
int exporter_start(struct server *s) __attribute__((warn_unused_result));
/* Stops both and removes the textfile; before the loop is closed.
 * Harmless if exporter_start() failed or set nothing up. */
void exporter_stop(struct server *s);

#endif
