/* SPDX-License-Identifier: MIT */
/*
 * The release all three programs belong to, in one place: vpnd, vpnc and
 * vpnctl print it for --version, vpnc sends it in CLIENT_INFO, and vpnd
 * reports it on its control socket.
 */
#ifndef VPN_VERSION_H
#define VPN_VERSION_H

#define VPN_VERSION "0.2"

#endif
