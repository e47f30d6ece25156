#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# vpnd turns off ICMP redirects on its device, which takes
# net.ipv4.conf.all.send_redirects to 0 too (the kernel ORs the two), and
# puts back what it changed when it stops:
#  1. all's 1 is 0 while vpnd runs (its device's too) and 1 again after a
#     SIGTERM, each step logged;
#  2. all's already 0: vpnd changes nothing, so it puts nothing back: a 1
#     an admin sets while it runs stays (writing back "the old value"
#     blindly would undo it);
#  3. changed by someone else while vpnd runs (to 2): left as they set it;
#  4. SIGKILL: nothing can run, so 0 stays. vpnd keeps no state file: the
#     next start finds 0, changes nothing and so puts nothing back, and
#     the admin resets it by hand (vpnd's start line named the old value).
#     With all's 0 each device follows its own send_redirects (1 unless
#     turned off), so what is lost is only the override of devices set to
#     0 by hand. README.md says so.
source "$(dirname "$0")/lib.sh"

ALL=net.ipv4.conf.all.send_redirects
all() { q_srv sysctl -n $ALL; }
set_all() { q_srv sysctl -qw "$ALL=$1"; }
has() { grep -qF -- "$2" "$1"; }

setup_topology
write_vpnd_conf

# 1.
set_all 1
start_vpnd
[ "$(all)" = 0 ]
[ "$(q_srv sysctl -n net.ipv4.conf.vpn0.send_redirects)" = 0 ]
has "$tmp/vpnd.log" "$ALL set to 0 (was 1; put back at stop)"
stop_vpnd
no_device "$ns_srv"
[ "$(all)" = 1 ]
has "$tmp/vpnd.log" "$ALL put back to 1"
mv "$tmp/vpnd.log" "$tmp/run1.log"

# 2.
set_all 0
start_vpnd
[ "$(all)" = 0 ]
set_all 1
stop_vpnd
[ "$(all)" = 1 ]
refute grep -q "send_redirects set to\|send_redirects put back" \
	"$tmp/vpnd.log"
mv "$tmp/vpnd.log" "$tmp/run2.log"

# 3.
set_all 1
start_vpnd
[ "$(all)" = 0 ]
set_all 2
stop_vpnd
[ "$(all)" = 2 ]
has "$tmp/vpnd.log" "$ALL left at 2: changed by someone else since"
mv "$tmp/vpnd.log" "$tmp/run3.log"

# 4.
set_all 1
start_vpnd
[ "$(all)" = 0 ]
kill -KILL "$VPND_PID"
wait "$VPND_PID" || true
wait_for 10 no_device "$ns_srv"
[ "$(all)" = 0 ]
start_vpnd
stop_vpnd
[ "$(all)" = 0 ]
set_all 1
echo "ok"
