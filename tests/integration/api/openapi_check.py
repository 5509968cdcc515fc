#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# tests/integration/api/openapi_check.py -- docs/openapi.yaml against a running xfrd.
#
#   openapi_check.py SPEC URL ADMIN_TOKEN VIEWER_TOKEN PRIMARY_PORT
#
# 1. The document: OpenAPI 3.1, every $ref resolves, every schema is a valid JSON
#    Schema (2020-12, OpenAPI 3.1's dialect), every operation documents its answers.
# 2. The server: every documented path and method is called (with the statuses it
#    should give: 2xx and the errors), and for each answer: its status is documented
#    for that operation, its Content-Type is the documented one, its body validates
#    against the documented schema, and the headers the call expects are there.
# 3. Coverage: a documented path/method nobody called fails the check; documented
#    statuses not seen are listed.
# Needs python3-yaml and python3-jsonschema (tests/bed/install-deps.sh). Exit 0 ok, 1 not.
import http.client
import json
import sys
import urllib.parse

import warnings

import jsonschema
import yaml

warnings.filterwarnings("ignore", category=DeprecationWarning)  # RefResolver in jsonschema >= 4.18

spec_path, url, admin, viewer, pport = sys.argv[1:6]
spec = yaml.safe_load(open(spec_path))
u = urllib.parse.urlsplit(url)
failures = []
seen = {}  # (template, method) -> set of statuses
seen_405 = set()  # (template, method) called with a method the path does not have


def fail(msg):
    failures.append(msg)
    print("FAIL:", msg, flush=True)


def resolve(node):
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/"), ref
        cur = spec
        for part in ref[2:].split("/"):
            cur = cur[part]
        node = cur
    return node


# ---- 1. the document -------------------------------------------------------------
if not str(spec.get("openapi", "")).startswith("3.1"):
    fail("openapi: %r, expected 3.1.x" % spec.get("openapi"))


def walk_refs(node, where):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref":
                try:
                    resolve({"$ref": v})
                except (KeyError, AssertionError):
                    fail("%s: $ref %s does not resolve" % (where, v))
            else:
                walk_refs(v, where + "/" + str(k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            walk_refs(v, "%s[%d]" % (where, i))


walk_refs(spec, "#")
for name, schema in spec["components"]["schemas"].items():
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as e:
        fail("schema %s: %s" % (name, e.message))
METHODS = ("get", "put", "post", "patch", "delete")
for template, item in spec["paths"].items():
    for m in METHODS:
        if m in item:
            if not item[m].get("responses"):
                fail("%s %s documents no responses" % (m.upper(), template))
            for st, r in item[m]["responses"].items():
                if not resolve(r).get("description"):
                    fail("%s %s %s: no description" % (m.upper(), template, st))
            seen[(template, m)] = set()
resolver = jsonschema.RefResolver(base_uri="", referrer=spec)


# ---- 2. the server ------------------------------------------------------------------
def template_of(path):
    p = urllib.parse.urlsplit(path).path
    for t in spec["paths"]:
        tp, pp = t.strip("/").split("/"), p.strip("/").split("/")
        if len(tp) == len(pp) and all(a == b or a.startswith("{") for a, b in zip(tp, pp)):
            return t
    return None


def call(method, path, want, body=None, token=admin, ctype="application/json", headers=None,
         source=None, need=()):
    h = {"Authorization": "Bearer " + token} if token else {}
    if body is not None:
        h["Content-Type"] = ctype
        body = body if isinstance(body, (bytes, str)) else json.dumps(body)
    h.update(headers or {})
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=20,
                                      source_address=(source, 0) if source else None)
    conn.request(method, path, body=body, headers=h)
    r = conn.getresponse()
    data = r.read()
    got = {k.lower(): v for k, v in r.getheaders()}
    conn.close()
    what = "%s %s" % (method, path)
    if r.status != want:
        fail("%s: status %d, want %d: %s" % (what, r.status, want, data[:300]))
    t = template_of(path)
    op = spec["paths"].get(t, {}).get(method.lower()) if t else None
    if op is None and t is not None:
        # a method the path does not have: 405, Allow = the documented ones, a Problem
        allow = sorted(m.upper() for m in METHODS if m in spec["paths"][t])
        if r.status != 405 or sorted(x.strip() for x in got.get("allow", "").split(",")) != allow:
            fail("%s: undocumented method: %d Allow %r, want 405 Allow %s" % (
                what, r.status, got.get("allow"), allow))
        op = {"responses": {"405": spec["components"]["responses"]["MethodNotAllowed"]}}
        seen_405.add((t, method))
    elif op is None:
        fail("%s: not a documented path/method" % what)
        return r.status, data, got
    else:
        seen[(t, method.lower())].add(r.status)
    doc = op["responses"].get(str(r.status)) or op["responses"].get("default")
    if doc is None:
        fail("%s: status %d is not documented (%s)" % (what, r.status, sorted(op["responses"])))
        return r.status, data, got
    doc = resolve(doc)
    for name in need:
        if name.lower() not in got:
            fail("%s: no %s header" % (what, name))
        elif name not in doc.get("headers", {}):
            fail("%s: header %s sent but not documented for %d" % (what, name, r.status))
    content = doc.get("content")
    if not content:
        if data:
            fail("%s: %d has a body, none documented" % (what, r.status))
        return r.status, data, got
    ct = got.get("content-type", "").split(";")[0].strip()
    if ct not in content:
        fail("%s: Content-Type %s, documented %s" % (what, ct, sorted(content)))
        return r.status, data, got
    try:
        doc_body = json.loads(data)
    except ValueError as e:
        fail("%s: body is not JSON: %s" % (what, e))
        return r.status, data, got
    schema = content[ct]["schema"]
    v = jsonschema.Draft202012Validator(schema, resolver=resolver)
    errs = sorted(v.iter_errors(doc_body), key=lambda e: list(e.path))
    for e in errs[:3]:
        fail("%s: body does not validate at %s: %s" % (what, "/".join(map(str, e.path)),
                                                         e.message[:200]))
    return r.status, doc_body, got


primary = "127.0.0.1@" + pport
z = "/v1/zones/c1.test"
# access
call("GET", "/v1/zones", 401, token=None, need=("WWW-Authenticate",))
call("GET", "/v1/zones", 403, source="127.0.0.2")
call("PUT", z, 403, body={"primaries": [primary]}, token=viewer)
for t, item in spec["paths"].items():  # every operation: 401 without a token, 403 read-only
    path = t.replace("{name}", "c1.test")
    for m in METHODS:
        if m in item:
            body = {} if m in ("put", "patch") else None
            call(m.upper(), path, 401, body=body, token=None, need=("WWW-Authenticate",))
            if m != "get":
                call(m.upper(), path, 403, body=body, token=viewer)
# create, read, replace
_, b, h = call("PUT", z, 201, body={"primaries": [primary]}, need=("ETag", "Location"))
etag = h.get("etag")
_, b, h = call("GET", z, 200, need=("ETag",))
assert h.get("etag") == etag, (h, etag)
_, b, h = call("PUT", z, 200, body=b, headers={"If-Match": etag}, need=("ETag",))  # a GET sent back
etag2 = h.get("etag")
call("PUT", z, 412, body={"primaries": [primary]}, headers={"If-None-Match": "*"})
call("PUT", z, 412, body={"primaries": [primary]}, headers={"If-Match": etag})
call("PUT", z, 422, body={"primaries": ["nowhere"], "key": "nokey", "limits": {"bytes": "lots"}})
call("PUT", z, 400, body='{"primaries": [')
call("PUT", z, 413, body=b" " * 70000)
call("PUT", z, 415, body={"primaries": [primary]}, ctype="text/plain")
call("PUT", "/v1/zones/file.test", 409, body={"primaries": [primary]})
call("PUT", "/v1/zones/a..b", 400, body={"primaries": [primary]})
call("GET", "/v1/zones/file.test", 200)
call("GET", "/v1/zones/none.test", 404)
call("GET", "/v1/zones/a..b", 400)
# patch
call("PATCH", z, 200, body={"refresh": {"min": "5m"}}, ctype="application/merge-patch+json",
     headers={"If-Match": etag2}, need=("ETag",))
call("PATCH", z, 412, body={}, ctype="application/merge-patch+json", headers={"If-Match": etag2})
call("PATCH", z, 422, body={"refresh": {"min": "later"}})
call("PATCH", z, 400, body="{", ctype="application/merge-patch+json")
call("PATCH", z, 415, body="{}", ctype="text/plain")
call("PATCH", "/v1/zones/none.test", 404, body={})
call("PATCH", "/v1/zones/file.test", 409, body={})
# list
_, b, _ = call("GET", "/v1/zones?limit=1", 200)
call("GET", b["next-href"], 200)
call("GET", "/v1/zones?source=file&state=pending", 200)
call("GET", "/v1/zones?limit=5000", 400)
call("POST", "/v1/zones", 405, need=("Allow",))
# status, requests
call("GET", z + "/status", 200)
call("GET", "/v1/zones/file.test/status", 200)
call("GET", "/v1/zones/none.test/status", 404)
call("GET", "/v1/zones/a..b/status", 400)
call("PUT", "/v1/zones", 405, body={}, need=("Allow",))
call("POST", z, 405, need=("Allow",))
call("POST", z + "/status", 405, need=("Allow",))
call("POST", z + "/refresh", 202)
call("POST", z + "/refresh?force=true", 400)
call("POST", "/v1/zones/none.test/refresh", 404)
call("GET", z + "/refresh", 405, need=("Allow",))
call("POST", z + "/retransfer?force=true", 202)
call("POST", z + "/retransfer?force=maybe", 400)
call("POST", "/v1/zones/none.test/retransfer", 404)
call("GET", z + "/retransfer", 405, need=("Allow",))
# the operator's actions (on the file's zone, once it holds data) and the daemon
import time
f = "/v1/zones/file.test"
for _ in range(100):
    _, b, _ = call("GET", f + "/status", 200)
    if b.get("serial") is not None:
        break
    time.sleep(0.2)
call("POST", f + "/notify", 409)
call("POST", f + "/expire", 200)
call("POST", f + "/purge", 400)
call("POST", f + "/purge?confirm=true", 200)
for a in ("expire", "purge?confirm=true", "notify"):
    call("POST", "/v1/zones/none.test/" + a, 404)
    call("GET", f + "/" + a.split("?")[0], 405, need=("Allow",))
call("POST", f + "/expire", 403, token=viewer)
call("GET", "/v1/status", 200)
call("GET", "/v1/status", 200, token=viewer)
call("POST", "/v1/status", 405, need=("Allow",))
# delete
call("DELETE", z, 412, headers={"If-Match": '"0:0"'})
call("DELETE", "/v1/zones/file.test", 409)
call("DELETE", z, 204)
call("DELETE", z, 404)
call("GET", z, 404)
call("GET", z + "/status", 200)
call("GET", "/v1/zones?state=removed", 200)

# ---- 3. coverage -----------------------------------------------------------------------
for (t, m), statuses in sorted(seen.items()):
    documented = set(int(s) for s in spec["paths"][t][m]["responses"] if s != "default")
    if not statuses:
        fail("%s %s: documented, never called" % (m.upper(), t))
    missing = sorted(documented - statuses)
    print("%-6s %-30s seen %s%s" % (m.upper(), t, sorted(statuses),
                                    "; not exercised %s" % missing if missing else ""))
for t in spec["paths"]:
    if not any(x == t for x, _ in seen_405):
        fail("%s: no undocumented method tried (405)" % t)
print("405 with Allow for: %s" % ", ".join("%s %s" % (m, t) for t, m in sorted(seen_405)))
print("openapi_check: %d failure(s)" % len(failures))
sys.exit(1 if failures else 0)
