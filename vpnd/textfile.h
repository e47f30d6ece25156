/* SPDX-License-Identifier: MIT */
/*
 * The file node_exporter's textfile collector reads (metrics-textfile):
 * always written whole, into a temporary file in the same directory that
 * is then renamed over the old one, so a reader sees the old text or the
 * new, never part of one. The temporary name does not end in .prom, so
 * the collector never reads it either.
 *
 * The writes happen on a thread of their own: the event loop hands over
 * its newest text and goes on, and a slow or stuck disk never holds up
 * the packet path. That thread sees only the text, never the server.
 */
#ifndef VPND_TEXTFILE_H
#define VPND_TEXTFILE_H

#include <stddef.h>

struct textfile;

/* Replaces `path` with `len` bytes of text, mode 0644, as above. 0 or
 * -errno (no temporary file is left behind). */
int textfile_write(const char *path, const char *text, size_t len)
	__attribute__((warn_unused_result));

/* Starts the writer thread for `path`. 0 or -errno. */
int textfile_start(struct textfile **out, const char *path)
	__attribute__((warn_unused_result));
/*
 * Hands `text` (malloc'd, taken over) to the thread, which writes it soon;
 * a text it has not started on yet is replaced, so only the newest is
 * written. Never blocks on the disk.
 */
void textfile_post(struct textfile *t, char *text, size_t len);
/* Stops the thread (a text not yet written is dropped) and removes the
 * file, so node_exporter stops reporting a vpnd that is not running.
 * NULL is fine. */
void textfile_stop(struct textfile *t);

#endif
