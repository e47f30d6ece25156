/* SPDX-License-Identifier: MIT */
/*
 * vpnd's control commands (see ctlcmd.c): the handler ctl.c calls with
 * each request, and the completions of commands that waited for the
 * store.
 */
#ifndef VPND_CTLCMD_H
#define VPND_CTLCMD_H

#include <stdbool.h>

#include "ctl.h"

struct server;
struct job;

/* ctl_handler_fn for vpnd; arg is the struct server. */
bool ctlcmd_handle(void *arg, const struct ctl_peer *who,
		   const struct ctlmsg *req, struct ctl_ticket t,
		   struct ctlmsg_writer *answer);
/* A JOB_KICK came back from the store: answer the connection. */
void ctlcmd_kick_done(struct server *s, const struct job *j);

#endif
