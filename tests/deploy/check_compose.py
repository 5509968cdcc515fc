# SPDX-License-Identifier: MIT
"""tests/deploy/check_compose.py -- what `docker compose config` cannot see.

docker/compose.yaml, docker/compose/zx.yaml (the daemons' config), compose/knot.conf (the
example primary) and compose/tsig.conf (the key file) must agree on addresses, ports,
the key and the paths:
  - notifyd's listen port is published (UDP and TCP); its knotd remote is notifyd's fixed
    address at that port; knotd's transfer ACL is xfrd's fixed address;
  - the zone's primary is the knotd service's address at 53 and its notify-from covers it;
  - both daemons mount zx.yaml at /etc/zx/zx.yaml and the key file at the path that
    zx.yaml's keys[].file names; xfrd.store is on the named volume;
  - the TSIG secret and algorithm are the same in knot.conf and tsig.conf;
  - every zone in zx.yaml is served by knotd, with its zone file mounted.
Usage: check_compose.py SRC_DIR; prints one line per failed check, exits 1 on any.
"""
import ipaddress
import os
import re
import sys

import yaml

SRC = sys.argv[1]
D = os.path.join(SRC, "docker")
errors = []


def check(cond, what):
    if not cond:
        errors.append(what)
    return cond


def read(rel):
    with open(os.path.join(D, rel)) as f:
        return f.read()


def split_ep(text):
    m = re.match(r"^\[?([0-9a-fA-F.:]+)\]?[@:](\d+)$", text)
    return (m.group(1), int(m.group(2))) if m else (None, None)


def mounts(svc):
    out = {}
    for v in svc.get("volumes", []):
        parts = v.split(":")
        out[parts[1]] = parts[0]
    return out


def published(svc):
    out = set()
    for p in svc.get("ports", []):
        spec, _, proto = str(p).partition("/")
        out.add((int(spec.split(":")[-1]), proto or "tcp"))
    return out


def ipv4(svc):
    return svc.get("networks", {}).get("zx", {}).get("ipv4_address")


def main():
    comp = yaml.safe_load(read("compose.yaml"))
    cfg = yaml.safe_load(read("compose/zx.yaml"))
    knot = yaml.safe_load(read("compose/knot.conf"))
    tsig = read("compose/tsig.conf")
    s = comp["services"]
    nd, xf, pri = s["notifyd"], s["xfrd"], s["primary"]

    for name, svc in (("notifyd", nd), ("xfrd", xf)):
        m = mounts(svc)
        check(m.get("/etc/zx/zx.yaml") == "./compose/zx.yaml",
              name + ": compose/zx.yaml must be mounted at /etc/zx/zx.yaml")
        for k in cfg.get("keys", []):
            if "file" in k:
                check(k["file"] in m, "%s: key file %s not mounted" % (name, k["file"]))
        check(svc.get("command") == [name], "%s: command must be [%s]" % (name, name))
        http = split_ep(cfg[name]["http"])
        check(http[0] == "0.0.0.0", name + ".http must be 0.0.0.0 (healthcheck, published)")
        check((http[1], "tcp") in published(svc), name + ": http port not published")
        for ep in cfg[name]["listen"]:
            port = split_ep(ep)[1]
            for proto in ("udp", "tcp"):
                check((port, proto) in published(svc),
                      "%s: listen %s not published on %s" % (name, ep, proto))

    store = cfg["xfrd"]["store"]
    vol = mounts(xf).get(os.path.dirname(store.rstrip("/")))
    check(vol is not None and vol in comp.get("volumes", {}),
          "xfrd: xfrd.store %s must be on a named volume" % store)

    nport = split_ep(cfg["notifyd"]["listen"][0])[1]
    remotes = {r["id"]: r for r in knot.get("remote", [])}
    acls = {a["id"]: a for a in knot.get("acl", [])}
    kzones = {z["domain"].rstrip("."): z for z in knot.get("zone", [])}
    check(remotes.get("notifyd", {}).get("address") == "%s@%d" % (ipv4(nd), nport),
          "knot.conf: remote notifyd must be %s@%d" % (ipv4(nd), nport))
    check(acls.get("xfrd", {}).get("address") == ipv4(xf),
          "knot.conf: acl xfrd must be %s" % ipv4(xf))
    pm = mounts(pri)
    for z in cfg.get("zones", []):
        name = z["name"].rstrip(".")
        check(z.get("primaries") == ["%s@53" % ipv4(pri)],
              "zone %s: primaries must be [%s@53]" % (name, ipv4(pri)))
        nets = [ipaddress.ip_network(n) for n in z.get("notify-from", [])]
        check(any(ipaddress.ip_address(ipv4(pri)) in n for n in nets),
              "zone %s: notify-from must cover the primary" % name)
        check(name in kzones, "zone %s: not served by knot.conf" % name)
        check(pm.get("/zones") == "./compose/zones"
              and os.path.isfile(os.path.join(D, "compose", "zones", name + ".zone")),
              "zone %s: compose/zones/%s.zone not mounted at /zones" % (name, name))

    kkey = {k["id"]: k for k in knot.get("key", [])}
    m = re.search(r'key\s+"([^"]+)"\s*\{\s*algorithm\s+([\w-]+);\s*secret\s+"([^"]+)";', tsig)
    if check(m is not None, "compose/tsig.conf: no BIND key statement"):
        k = kkey.get(m.group(1), {})
        check(k.get("algorithm") == m.group(2) and k.get("secret") == m.group(3),
              "knot.conf key %s differs from compose/tsig.conf" % m.group(1))


main()
for e in errors:
    print("check_compose: " + e)
sys.exit(1 if errors else 0)
