/* SPDX-License-Identifier: MIT */
/*
 * vpnctl's side of the control socket: one request, one answer (protocol:
 * ctlmsg.h). The answer is checked as strictly as vpnd checks requests.
 */
#ifndef VPND_CTLCLIENT_H
#define VPND_CTLCLIENT_H

#include "ctlmsg.h"

/*
 * Sends `request` (a finished request) to the vpnd listening at `path`
 * and decodes its answer into *answer (ctlmsg_free it). 0, or -errno after
 * printing one line that says what to do: vpnd not running, no permission
 * on the socket, a malformed answer. An answer with errno != 0 is still 0
 * here: the caller reports it (ctlclient_failed).
 */
int ctlclient_call(const char *path, const struct ctlmsg_writer *request,
		   struct ctlmsg *answer) __attribute__((warn_unused_result));

/* Prints the answer's error= if its errno is not 0; true if it failed. */
bool ctlclient_failed(const struct ctlmsg *answer, const char *what);

#endif
