# SPDX-License-Identifier: MIT
"""tests/deploy/check_k8s.py -- what a schema cannot see in docker/k8s/.

Checks that the manifests agree with each other, with the config in the ConfigMap and
with the image (docker/Dockerfile), and that the lessons written into them stay there:
  - kustomization.yaml lists exactly the manifests of the folder, namespaces agree;
  - selectors (Services, PDBs, workloads) match the pod labels;
  - Services' targetPorts name container ports; container ports equal the config's
    listen/http ports; probes hit /health (liveness) and /ready (readiness) on the
    http port;
  - both workloads run as the image's numeric USER, non-root, read-only root fs, no
    capabilities; the xfrd StatefulSet has fsGroup with fsGroupChangePolicy
    OnRootMismatch and a volumeClaimTemplate mounted where xfrd.store lives;
  - the config and key file are mounted where the contract says (/etc/zx/zx.yaml,
    /etc/zx/keys/tsig.conf) and the config's keys[].file points there;
  - the notifyd LoadBalancer serves 53 on UDP and TCP with externalTrafficPolicy Local.
Usage: check_k8s.py SRC_DIR; prints one line per failed check, exits 1 on any.
"""
import os
import re
import sys

import yaml

SRC = sys.argv[1]
K8S = os.path.join(SRC, "docker", "k8s")
errors = []


def check(cond, what):
    if not cond:
        errors.append(what)
    return cond


def load_all():
    docs = []
    for name in sorted(os.listdir(K8S)):
        if name.endswith(".yaml") and name != "kustomization.yaml":
            with open(os.path.join(K8S, name)) as f:
                for d in yaml.safe_load_all(f):
                    if d is not None:
                        docs.append((name, d))
    return docs


def endpoint_port(text):
    m = re.search(r"[@:](\d+)$", text)
    return int(m.group(1)) if m else None


def image_uid():
    with open(os.path.join(SRC, "docker", "Dockerfile")) as f:
        users = re.findall(r"^USER\s+(\d+)(?::(\d+))?\s*$", f.read(), re.M)
    check(len(users) == 1, "Dockerfile: expected one numeric USER line")
    return int(users[-1][0]) if users else None


def kustomization(docs):
    with open(os.path.join(K8S, "kustomization.yaml")) as f:
        k = yaml.safe_load(f)
    check(k.get("kind") == "Kustomization", "kustomization.yaml: kind")
    files = {n for n, _ in docs}
    listed = set(k.get("resources", []))
    check(listed == files, "kustomization.yaml resources %s != files %s"
          % (sorted(listed), sorted(files)))
    for n, d in docs:
        ns = d["metadata"].get("namespace")
        if d["kind"] != "Namespace":
            check(ns == k.get("namespace"), "%s %s: namespace %s" % (n, d["kind"], ns))


def selects(selector, labels):
    return all(labels.get(a) == b for a, b in selector.items())


def container(workload):
    cs = workload["spec"]["template"]["spec"]["containers"]
    check(len(cs) == 1, "%s: one container" % workload["metadata"]["name"])
    return cs[0]


def ports_by_name(c):
    return {p["name"]: p for p in c.get("ports", [])}


def check_workload(w, cfg, section, uid):
    name = w["metadata"]["name"]
    spec = w["spec"]["template"]["spec"]
    labels = w["spec"]["template"]["metadata"]["labels"]
    check(selects(w["spec"]["selector"]["matchLabels"], labels), name + ": selector")
    c = container(w)
    args = c.get("args") or []
    check(args[:1] == [section], "%s: args must start with %s (entrypoint picks it)"
          % (name, section))
    if section == "xfrd":
        # the other replicas copy zones from this one's DNS endpoint: it must be
        # advertised at the pod's IP (xfrd.listen is a wildcard in a pod)
        env = {e["name"]: e for e in c.get("env", [])}
        adv = args[args.index("--advertise") + 1] if "--advertise" in args[:-1] else ""
        check(adv.startswith("$(POD_IP)@"), name + ": args need --advertise $(POD_IP)@PORT")
        check(env.get("POD_IP", {}).get("valueFrom", {}).get("fieldRef", {})
              .get("fieldPath") == "status.podIP", name + ": env POD_IP from status.podIP")
    psc, csc = spec.get("securityContext", {}), c.get("securityContext", {})
    check(psc.get("runAsNonRoot") is True, name + ": runAsNonRoot")
    check(psc.get("runAsUser") == uid, "%s: runAsUser %s != image USER %s"
          % (name, psc.get("runAsUser"), uid))
    check(csc.get("readOnlyRootFilesystem") is True, name + ": readOnlyRootFilesystem")
    check(csc.get("allowPrivilegeEscalation") is False, name + ": allowPrivilegeEscalation")
    check(csc.get("capabilities", {}).get("drop") == ["ALL"], name + ": drop ALL caps")
    check("requests" in c.get("resources", {}) and "limits" in c.get("resources", {}),
          name + ": resource requests and limits")
    ports = ports_by_name(c)
    http = endpoint_port(cfg[section]["http"])
    check(ports.get("http", {}).get("containerPort") == http,
          "%s: container port http != config %s.http %s" % (name, section, http))
    for ep in cfg[section]["listen"]:
        p = endpoint_port(ep)
        for proto in ("UDP", "TCP"):
            check(any(x["containerPort"] == p and x.get("protocol", "TCP") == proto
                      for x in ports.values()),
                  "%s: no %s container port for listen %s" % (name, proto, ep))
    for probe, path in (("livenessProbe", "/health"), ("readinessProbe", "/ready")):
        g = c.get(probe, {}).get("httpGet", {})
        check(g.get("path") == path and g.get("port") == "http",
              "%s: %s must GET %s on port http" % (name, probe, path))
    mounts = {m["mountPath"]: m for m in c.get("volumeMounts", [])}
    check("/etc/zx" in mounts, name + ": /etc/zx mount")
    vols = {v["name"]: v for v in spec.get("volumes", [])}
    etc = vols.get(mounts.get("/etc/zx", {}).get("name"), {})
    paths = [i["path"] for s in etc.get("projected", {}).get("sources", [])
             for kind in ("configMap", "secret") for i in s.get(kind, {}).get("items", [])]
    check(sorted(paths) == ["keys/tsig.conf", "zx.yaml"],
          "%s: /etc/zx must hold zx.yaml and keys/tsig.conf, has %s" % (name, paths))
    return spec, c, labels, mounts


def main():
    docs = load_all()
    kustomization(docs)
    by = {(d["kind"], d["metadata"]["name"]): d for _, d in docs}
    cm = by.get(("ConfigMap", "zx-config"))
    sec = by.get(("Secret", "zx-tsig"))
    if not (check(cm is not None, "ConfigMap zx-config missing")
            and check(sec is not None, "Secret zx-tsig missing")):
        return
    cfg = yaml.safe_load(cm["data"]["zx.yaml"])
    check("tsig.conf" in sec.get("stringData", sec.get("data", {})), "Secret: tsig.conf")
    check({"file": "/etc/zx/keys/tsig.conf"} in cfg.get("keys", []),
          "config: keys must list { file: /etc/zx/keys/tsig.conf }")
    for section in ("notifyd", "xfrd"):
        check(cfg[section]["http"].startswith("0.0.0.0"),
              "config: %s.http must listen on 0.0.0.0 for probes" % section)
    uid = image_uid()

    nd = by.get(("Deployment", "notifyd"))
    xs = by.get(("StatefulSet", "xfrd"))
    if not (check(nd is not None, "Deployment notifyd missing")
            and check(xs is not None, "StatefulSet xfrd missing")):
        return
    _, nc, nlabels, _ = check_workload(nd, cfg, "notifyd", uid)
    xspec, xc, xlabels, xmounts = check_workload(xs, cfg, "xfrd", uid)

    psc = xspec.get("securityContext", {})
    check(isinstance(psc.get("fsGroup"), int), "xfrd: fsGroup")
    check(psc.get("fsGroupChangePolicy") == "OnRootMismatch",
          "xfrd: fsGroupChangePolicy must be OnRootMismatch (no recursive chgrp per mount)")
    store_dir = os.path.dirname(cfg["xfrd"]["store"].rstrip("/"))
    claims = {t["metadata"]["name"] for t in xs["spec"].get("volumeClaimTemplates", [])}
    m = xmounts.get(store_dir) or xmounts.get(cfg["xfrd"]["store"])
    check(m is not None and m["name"] in claims,
          "xfrd: xfrd.store %s must be on a volumeClaimTemplate" % cfg["xfrd"]["store"])
    check(by.get(("Service", xs["spec"]["serviceName"]), {}).get("spec", {})
          .get("clusterIP") == "None", "xfrd: serviceName must be a headless Service")

    pods = {"notifyd": (nlabels, nc), "xfrd": (xlabels, xc)}
    for (kind, name), d in by.items():
        if kind not in ("Service", "PodDisruptionBudget"):
            continue
        sel = d["spec"]["selector"]
        sel = sel.get("matchLabels", sel) if kind == "PodDisruptionBudget" else sel
        hit = [p for p, (labels, _) in pods.items() if selects(sel, labels)]
        if not check(len(hit) == 1, "%s %s selects %s" % (kind, name, hit)):
            continue
        if kind == "Service":
            names = ports_by_name(pods[hit[0]][1])
            for p in d["spec"]["ports"]:
                t = names.get(p["targetPort"])
                check(t is not None and t.get("protocol", "TCP") == p.get("protocol", "TCP"),
                      "Service %s: targetPort %s/%s is no container port"
                      % (name, p["targetPort"], p.get("protocol", "TCP")))

    lb = by.get(("Service", "notifyd"), {}).get("spec", {})
    check(lb.get("type") == "LoadBalancer", "Service notifyd: type LoadBalancer")
    check(lb.get("externalTrafficPolicy") == "Local",
          "Service notifyd: externalTrafficPolicy Local keeps the NOTIFY source address")
    check(sorted((p["port"], p["protocol"]) for p in lb.get("ports", []))
          == [(53, "TCP"), (53, "UDP")], "Service notifyd: 53/UDP and 53/TCP")
    for n in ("notifyd", "xfrd"):
        check(("PodDisruptionBudget", n) in by, "PodDisruptionBudget %s missing" % n)


main()
for e in errors:
    print("check_k8s: " + e)
sys.exit(1 if errors else 0)
