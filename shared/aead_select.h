/* SPDX-License-Identifier: MIT */
/*
 * The start-up choice of the AEAD backend (aead.h): forced by the
 * configuration, or measured. Called once by main.c, before the sandbox
 * is entered and before any thread starts, so that libcrypto initialises
 * (and reads whatever it reads) while everything is still allowed.
 */
#ifndef VPN_AEAD_SELECT_H
#define VPN_AEAD_SELECT_H

#include "aead.h"

/*
 * AEAD_LIBSODIUM and AEAD_OPENSSL are used as asked; AEAD_AUTO times both
 * on 1420-byte packets (a few milliseconds) and takes the faster, or
 * libsodium if OpenSSL cannot be loaded. OpenSSL is first checked against
 * libsodium: a packet sealed by either must open with the other, byte for
 * byte. Logs the choice (and for AUTO the speed ratio). 0, or a negative
 * errno when OpenSSL was asked for and cannot be used (libsodium stays).
 */
int aead_select(enum aead_backend want) __attribute__((warn_unused_result));

#endif
