/* SPDX-License-Identifier: MIT */
/*
 * The system calls vpnd's processes may make once they run confined (see
 * sandbox.h for the rules every program has, syscalls.c for these).
 */
#ifndef VPND_SYSCALLS_H
#define VPND_SYSCALLS_H

#include "sandbox.h"

/* vpnd itself, every thread, after privs_drop(). */
struct sandbox_rules syscalls_vpnd(void);
/* vpnd whose user store is a PostgreSQL server: syscalls_vpnd() and TCP
 * connections to it. */
struct sandbox_rules syscalls_vpnd_pg(void);
/* The monitor process (monitor.h). */
struct sandbox_rules syscalls_monitor(void);

#endif
