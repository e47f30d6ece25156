/* SPDX-License-Identifier: MIT */
/*
 * The system calls vpnc may make once confined (see sandbox.h for the
 * rules every program has, syscalls.c for these).
 */
#ifndef VPNC_SYSCALLS_H
#define VPNC_SYSCALLS_H

#include "sandbox.h"

/* vpnc after jail_drop(). */
struct sandbox_rules syscalls_vpnc(void);

#endif
