#!/usr/bin/python3
# SPDX-License-Identifier: MIT
#
# fake-resolved.py STATE_JSON: a stand-in for systemd-resolved's D-Bus
# API, for the netns tests (a real resolved cannot run in a test's
# namespace). It owns org.freedesktop.resolve1 on the bus that
# DBUS_SYSTEM_BUS_ADDRESS names and serves the Manager calls vpnc makes
# (SetLinkDNS, SetLinkDomains, SetLinkDefaultRoute, RevertLink), refusing
# as resolved does a call whose arguments have another signature (which
# dbus-python itself would let through) or the root domain as a search
# domain, and keeps, as resolved does, per-link settings that vanish with
# the link. After every change it rewrites STATE_JSON whole:
#
#   {"links": {"vpn0": {"dns": ["10.20.0.53"], "domains": [["office.test",
#    false]], "default_route": false}}, "calls": ["SetLinkDNS vpn0", ...]}
#
# A call for an interface index that does not exist is refused with
# resolved's error name. The first line, on stderr, says it is ready.
import ipaddress
import json
import os
import socket
import sys

import dbus
import dbus.mainloop.glib
import dbus.service
from gi.repository import GLib

NAME = "org.freedesktop.resolve1"
MANAGER = "org.freedesktop.resolve1.Manager"


class NoSuchLink(dbus.DBusException):
    _dbus_error_name = "org.freedesktop.resolve1.NoSuchLink"


class InvalidArgs(dbus.DBusException):
    _dbus_error_name = "org.freedesktop.DBus.Error.InvalidArgs"


def call(signature):
    """A Manager method taking `signature`, and the message, to check it:
    dbus-python hands a method whatever arguments came."""
    return dbus.service.method(MANAGER, in_signature=signature,
                               out_signature="", message_keyword="msg")


def expect(msg, signature):
    if msg.get_signature() != signature:
        raise InvalidArgs("%s takes %s, not %s" % (
            msg.get_member(), signature, msg.get_signature()))


class Manager(dbus.service.Object):
    def __init__(self, bus, path):
        super().__init__(bus, "/org/freedesktop/resolve1")
        self.path = path
        self.links = {}   # ifindex: (name, settings)
        self.calls = []
        self.save()

    def link(self, ifindex, call):
        try:
            name = socket.if_indextoname(int(ifindex))
        except OSError:
            raise NoSuchLink("Link %d not known" % ifindex)
        self.calls.append("%s %s" % (call, name))
        if ifindex not in self.links or self.links[ifindex][0] != name:
            self.links[ifindex] = (name, {"dns": [], "domains": [],
                                          "default_route": None})
        return self.links[ifindex][1]

    def save(self):
        state = {"links": {n: s for n, s in self.links.values()},
                 "calls": self.calls}
        tmp = self.path + ".new"
        with open(tmp, "w") as f:
            json.dump(state, f, sort_keys=True)
        os.rename(tmp, self.path)

    def forget_gone(self):
        """resolved forgets a link's settings when the link goes."""
        gone = []
        for ifindex, (name, _) in self.links.items():
            try:
                now = socket.if_indextoname(ifindex)
            except OSError:
                now = None
            if now != name:
                gone.append(ifindex)
        for ifindex in gone:
            del self.links[ifindex]
        if gone:
            self.save()
        return True

    @call("ia(iay)")
    def SetLinkDNS(self, ifindex, addresses, msg):
        expect(msg, "ia(iay)")
        out = []
        for family, raw in addresses:
            raw = bytes(raw)
            if (family, len(raw)) not in ((socket.AF_INET, 4),
                                          (socket.AF_INET6, 16)):
                raise InvalidArgs("Invalid address")
            out.append(str(ipaddress.ip_address(raw)))
        self.link(ifindex, "SetLinkDNS")["dns"] = out
        self.save()

    @call("ia(sb)")
    def SetLinkDomains(self, ifindex, domains, msg):
        expect(msg, "ia(sb)")
        for name, route_only in domains:
            if name.strip(".") == "" and not route_only:
                raise InvalidArgs("Root domain is not suitable as search "
                                  "domain")
        self.link(ifindex, "SetLinkDomains")["domains"] = [
            [str(d), bool(r)] for d, r in domains]
        self.save()

    @call("ib")
    def SetLinkDefaultRoute(self, ifindex, enable, msg):
        expect(msg, "ib")
        self.link(ifindex, "SetLinkDefaultRoute")["default_route"] = \
            bool(enable)
        self.save()

    @call("i")
    def RevertLink(self, ifindex, msg):
        expect(msg, "i")
        self.link(ifindex, "RevertLink")
        del self.links[ifindex]
        self.save()


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: fake-resolved.py STATE_JSON\n")
        return 2
    dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
    bus = dbus.SystemBus()
    manager = Manager(bus, sys.argv[1])
    name = dbus.service.BusName(NAME, bus, do_not_queue=True)
    GLib.timeout_add(100, manager.forget_gone)
    sys.stderr.write("fake-resolved: ready as %s\n" % name.get_name())
    sys.stderr.flush()
    GLib.MainLoop().run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
