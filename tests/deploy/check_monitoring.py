# SPDX-License-Identifier: MIT
"""tests/deploy/check_monitoring.py -- the alert rules and the dashboard against the metrics.

Usage: check_monitoring.py SRC_DIR [--promtool PROMTOOL] [--live METRICS_FILE...]

  - docker/prometheus/alerts.yaml: every rule is an alert named Zx..., with a `for`, a
    severity label (warning or critical), a summary and a description;
  - docker/grafana/zx.json is well-formed: a uid, a title, the Prometheus datasource
    variable that every panel and query uses, unique panel ids, panels on the 24-column
    grid without overlaps, each query with a unique refId and an expression;
  - every metric the rules and the dashboard's queries name is registered in the sources
    (metrics_counter/gauge/gauge_cb/histogram/family calls under common/, notifyd/, xfrd/) or
    listed in tests/deploy/metrics_planned.txt; a listed one that the sources now
    register, or that nothing uses, is an error too (the list must stay true);
  - with --promtool: every dashboard query is valid PromQL (Grafana's $variables
    replaced; the queries go into a rules file that `promtool check rules` parses);
  - with --live: the metrics files (GET /metrics of running daemons) hold every
    registered metric the rules and the dashboard use, but those that exist only when a
    feature is configured (tests/deploy/metrics_conditional.txt: each must be registered
    and used, and names the test that sees it live).
One line per failed check; exit 1 on any.
"""
import json
import os
import re
import subprocess
import sys
import tempfile

import yaml

BUILTIN = {"up"}  # Prometheus' own series
PREFIXES = ("notifyd_", "xfrd_", "process_", "zx_")
errors = []


def check(cond, what):
    if not cond:
        errors.append(what)
    return cond


def registered(src):
    """name -> kind of every metric the C sources register."""
    pat = re.compile(r'metrics_(counter|gauge_cb|gauge|histogram|family)\s*\(\s*[^,()]+,\s*'
                     r'"([A-Za-z_:][A-Za-z0-9_:]*)"')
    out = {}
    for top in ("common", "notifyd", "xfrd", "proto"):
        for root, _, files in os.walk(os.path.join(src, top)):
            for f in files:
                if f.endswith(".c"):
                    with open(os.path.join(root, f), errors="replace") as fh:
                        for m in pat.finditer(fh.read()):
                            out[m.group(2)] = m.group(1)
    return out


def planned(src, fn="metrics_planned.txt"):
    names = []
    with open(os.path.join(src, "tests", "deploy", fn)) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                names.append(line.split()[0])
    return names


def names_in(expr, hist):
    """Metric names an expression selects: our prefixes or Prometheus' own; a histogram's
    _bucket/_sum/_count series count as the histogram."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    expr = re.sub(r"'(?:[^'\\]|\\.)*'", "''", expr)
    out = set()
    for tok in re.findall(r"[A-Za-z_:][A-Za-z0-9_:]*", expr):
        if tok.startswith(PREFIXES) or tok in BUILTIN:
            for suf in ("_bucket", "_sum", "_count"):
                if tok.endswith(suf) and tok[: -len(suf)] in hist:
                    tok = tok[: -len(suf)]
            out.add(tok)
    return out


def grafana_to_promql(expr):
    """A dashboard query with Grafana's variables replaced by what they stand for."""
    for var, val in (("$__rate_interval", "5m"), ("$__interval", "1m"), ("$__range", "1h"),
                     ("${__rate_interval}", "5m"), ("${__interval}", "1m")):
        expr = expr.replace(var, val)
    return re.sub(r"\$\{?[A-Za-z_][A-Za-z0-9_]*\}?", ".*", expr)


def check_alerts(path):
    with open(path) as f:
        doc = yaml.safe_load(f)
    exprs = {}
    for g in doc.get("groups", []):
        for r in g.get("rules", []):
            name = r.get("alert") or r.get("record") or "?"
            if not check("alert" in r, "%s: rule %s is not an alert" % (path, name)):
                continue
            check(name.startswith("Zx"), "alert %s: name must start with Zx" % name)
            check("for" in r, "alert %s: no `for`" % name)
            check(r.get("labels", {}).get("severity") in ("warning", "critical"),
                  "alert %s: severity must be warning or critical" % name)
            ann = r.get("annotations", {})
            check(ann.get("summary") and ann.get("description"),
                  "alert %s: needs annotations summary and description" % name)
            exprs["alert " + name] = r["expr"]
    check(exprs, "%s: no alerts" % path)
    return exprs


def check_dashboard(path):
    with open(path) as f:
        try:
            d = json.load(f)
        except json.JSONDecodeError as e:
            check(False, "%s: not JSON: %s" % (path, e))
            return {}
    for k in ("uid", "title", "schemaVersion", "panels", "templating"):
        check(k in d, "%s: no %s" % (path, k))
    tvars = {v.get("name"): v for v in d.get("templating", {}).get("list", [])}
    ds = tvars.get("datasource", {})
    check(ds.get("type") == "datasource" and ds.get("query") == "prometheus",
          "%s: needs a datasource variable of type datasource, query prometheus" % path)
    want_ds = {"type": "prometheus", "uid": "${datasource}"}
    for name, v in tvars.items():
        if v.get("type") == "query":
            check(v.get("datasource") == want_ds, "variable %s: datasource is not ${datasource}" % name)
    exprs, ids, cells = {}, set(), {}
    flat = []
    for p in d.get("panels", []):
        flat.append(p)
        flat += p.get("panels", [])
    for p in flat:
        pid, title = p.get("id"), p.get("title", "?")
        what = "panel %r (id %s)" % (title, pid)
        check(isinstance(pid, int) and pid not in ids, "%s: id missing or not unique" % what)
        ids.add(pid)
        g = p.get("gridPos", {})
        if not check(all(isinstance(g.get(k), int) for k in "hwxy") and g.get("x", 0) >= 0
                     and g.get("w", 0) > 0 and g.get("x", 0) + g.get("w", 0) <= 24,
                     "%s: gridPos %r is not on the 24-column grid" % (what, g)):
            continue
        for x in range(g["x"], g["x"] + g["w"]):
            for y in range(g["y"], g["y"] + g["h"]):
                check((x, y) not in cells, "%s overlaps %s at column %d row %d"
                      % (what, cells.get((x, y)), x, y))
                cells[(x, y)] = what
        if p.get("type") == "row":
            continue
        check(p.get("type") and p.get("title"), "%s: needs a type and a title" % what)
        check(p.get("datasource") == want_ds, "%s: datasource is not ${datasource}" % what)
        targets = p.get("targets", [])
        check(targets, "%s: no queries" % what)
        refs = set()
        for t in targets:
            ref = t.get("refId")
            check(ref and ref not in refs, "%s: refId %r missing or not unique" % (what, ref))
            refs.add(ref)
            check(t.get("datasource", want_ds) == want_ds,
                  "%s query %s: datasource is not ${datasource}" % (what, ref))
            if check(t.get("expr"), "%s query %s: no expr" % (what, ref)):
                exprs["%s query %s" % (what, ref)] = t["expr"]
    return exprs


def promtool_check(promtool, exprs):
    rules = [{"record": "zx:dashboard_query:%d" % i, "expr": grafana_to_promql(e)}
             for i, e in enumerate(exprs.values())]
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}, f)
    try:
        r = subprocess.run([promtool, "check", "rules", f.name], capture_output=True, text=True)
    finally:
        os.unlink(f.name)
    if not check(r.returncode == 0, "dashboard queries: promtool check rules failed"):
        for line in (r.stdout + r.stderr).splitlines():
            errors.append("  " + line)
        for i, (where, e) in enumerate(exprs.items()):
            errors.append("  zx:dashboard_query:%d = %s: %s" % (i, where, e))


def live_names(files):
    out = set()
    for fn in files:
        with open(fn) as f:
            for line in f:
                m = re.match(r"([A-Za-z_:][A-Za-z0-9_:]*)[{ ]", line)
                if m and not line.startswith("#"):
                    out.add(m.group(1))
    for n in list(out):
        for suf in ("_bucket", "_sum", "_count"):
            if n.endswith(suf):
                out.add(n[: -len(suf)])
    return out


def main(argv):
    src = argv[1]
    promtool, live = None, []
    rest = argv[2:]
    while rest:
        a = rest.pop(0)
        if a == "--promtool":
            promtool = rest.pop(0)
        elif a == "--live":
            live, rest = rest, []
        else:
            sys.exit("usage: check_monitoring.py SRC [--promtool P] [--live FILE...]")
    reg = registered(src)
    hist = {n for n, k in reg.items() if k == "histogram"}
    plan = planned(src)
    cond = planned(src, "metrics_conditional.txt")
    check(len(reg) > 20, "found only %d metric registrations in the sources" % len(reg))
    alerts = check_alerts(os.path.join(src, "docker", "prometheus", "alerts.yaml"))
    dash = check_dashboard(os.path.join(src, "docker", "grafana", "zx.json"))
    used = {}
    for where, e in list(alerts.items()) + list(dash.items()):
        for n in names_in(e, hist):
            used.setdefault(n, where)
    check(used, "the rules and the dashboard name no metric at all")
    for n, where in sorted(used.items()):
        check(n in reg or n in plan or n in BUILTIN,
              "%s uses %s: not registered in the sources, not in tests/deploy/metrics_planned.txt"
              % (where, n))
    for n in plan:
        check(n not in reg, "%s is registered in the sources now: delete it from "
              "tests/deploy/metrics_planned.txt" % n)
        check(n in used, "%s (metrics_planned.txt) is used by no alert and no dashboard query" % n)
    for n in cond:
        check(n in reg, "%s (metrics_conditional.txt) is not registered in the sources" % n)
        check(n in used, "%s (metrics_conditional.txt) is used by no alert and no dashboard "
              "query" % n)
    if promtool:
        promtool_check(promtool, dash)
    if live:
        have = live_names(live)
        for n, where in sorted(used.items()):
            if n in reg and n not in cond:
                check(n in have, "%s uses %s, which the running daemons do not export (%s)"
                      % (where, n, " ".join(live)))
    if not errors:
        print("%d alerts, %d dashboard queries; %d metrics used: %d exported today%s, %d planned"
              % (len(alerts), len(dash), len(used), len([n for n in used if n in reg]),
                 " (all in the live /metrics)" if live else "",
                 len([n for n in used if n in plan])))


if __name__ == "__main__":
    main(sys.argv)
    for e in errors:
        print("check_monitoring: " + e)
    sys.exit(1 if errors else 0)
