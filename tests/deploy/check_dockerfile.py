# SPDX-License-Identifier: MIT
"""tests/deploy/check_dockerfile.py -- what hadolint cannot see in docker/Dockerfile.

  - the build stage installs exactly tests/bed/install-deps.sh's BUILD_PKGS (one list of
    build dependencies, not two that drift apart);
  - the run stage installs the Debian package of every shared library that the built
    programs load directly (readelf NEEDED -> ldd path -> dpkg -S), apart from what
    debian:bookworm-slim already has;
  - the build stage builds and installs notifyd, xfrd, xfrctl and zx-follow;
  - every COPY source exists and is not excluded by docker/Dockerfile.dockerignore;
  - ENTRYPOINT and HEALTHCHECK run files that a COPY puts there; the image's USER is
    numeric and not root.
Usage: check_dockerfile.py SRC_DIR [BINARY...]; one line per failed check, exit 1 on any.
Environment: ZX_SANITIZE=ON when the binaries are a sanitizer build (see below).
"""
import fnmatch
import json
import os
import re
import subprocess
import sys

SRC = sys.argv[1] if len(sys.argv) > 1 else "."
BINS = sys.argv[2:]
# In debian:bookworm-slim already (priority required): need no apt-get install.
BASE = {"libc6", "libgcc-s1", "zlib1g", "libzstd1", "liblzma5", "libbz2-1.0", "libcrypt1",
        "libselinux1", "libpcre2-8-0", "libacl1", "libattr1"}
# ZX_SANITIZE=ON builds (the test suite's) also load libasan/libubsan; the image's
# build has no sanitizers, so those two are not asked of the run stage.
SANITIZED = os.environ.get("ZX_SANITIZE", "OFF").upper() in ("1", "ON", "TRUE", "YES")
errors = []


def check(cond, what):
    if not cond:
        errors.append(what)
    return cond


def instructions(text):
    """(instruction, args) of each Dockerfile line, continuations joined, comments out."""
    out, cur = [], ""
    for line in text.splitlines():
        s = line.strip()
        if not cur and (not s or s.startswith("#")):
            continue
        if s.startswith("#"):
            continue
        cur += " " + s.rstrip("\\").strip()
        if not s.endswith("\\"):
            ins, _, args = cur.strip().partition(" ")
            out.append((ins.upper(), args.strip()))
            cur = ""
    return out


def stages(ins):
    st = []
    for i, a in ins:
        if i == "FROM":
            st.append([])
        if st:
            st[-1].append((i, a))
    return st


def apt_packages(stage):
    pk = []
    for i, a in stage:
        if i == "RUN":
            for m in re.finditer(r"apt-get install ([^&;|]*)", a):
                pk += [w for w in m.group(1).split() if not w.startswith("-")]
    return pk


def build_pkgs():
    with open(os.path.join(SRC, "tests", "bed", "install-deps.sh")) as f:
        m = re.search(r"^BUILD_PKGS=\(([^)]*)\)", f.read(), re.M)
    return m.group(1).split() if m else []


def owner(path):
    for p in {path, os.path.realpath(path), re.sub(r"^/usr/", "/", path),
              "/usr" + path if not path.startswith("/usr/") else path}:
        r = subprocess.run(["dpkg", "-S", p], capture_output=True, text=True)
        if r.returncode == 0:
            return r.stdout.split(":")[0].strip()
    return None


def needed_packages(binary):
    elf = subprocess.run(["readelf", "-d", binary], capture_output=True, text=True).stdout
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", elf)
    ldd = subprocess.run(["ldd", binary], capture_output=True, text=True).stdout
    paths = dict(re.findall(r"^\s*(\S+) => (/\S+)", ldd, re.M))
    pk = {}
    for n in needed:
        path = paths.get(n)
        if check(path is not None, "%s: %s not found by ldd" % (binary, n)):
            pk[n] = owner(path)
            check(pk[n] is not None, "%s: no package owns %s" % (binary, path))
    return pk


def ignored(rel, patterns):
    """True when .dockerignore patterns exclude the context path rel (Docker's rules:
    patterns are relative to the context root, a match on a directory excludes what is
    below it, "**/" matches any number of directories, the last matching line wins and
    "!" re-includes)."""
    hit = False
    parts = rel.strip("/").split("/")
    prefixes = ["/".join(parts[:k]) for k in range(1, len(parts) + 1)]
    for p in patterns:
        neg = p.startswith("!")
        p = p.lstrip("!").strip("/")
        m = any(fnmatch.fnmatchcase(x, p) for x in prefixes)
        if not m and p.startswith("**/"):
            m = any(fnmatch.fnmatchcase(x, p[3:]) for x in prefixes)
        if m:
            hit = not neg
    return hit


def ignore_patterns(src):
    with open(os.path.join(src, "docker", "Dockerfile.dockerignore")) as f:
        return [l.strip() for l in f if l.strip() and not l.startswith("#")]


def main():
    df = os.path.join(SRC, "docker", "Dockerfile")
    with open(df) as f:
        ins = instructions(f.read())
    st = stages(ins)
    if not check(len(st) == 2, "Dockerfile: expected 2 stages (build, run), got %d" % len(st)):
        return
    build, run = st
    check(re.match(r"debian:bookworm", build[0][1]) and re.match(r"debian:bookworm", run[0][1]),
          "Dockerfile: both stages FROM debian:bookworm*")
    bp, want = apt_packages(build), build_pkgs()
    check(want != [], "install-deps.sh: no BUILD_PKGS list")
    check(sorted(bp) == sorted(want), "build stage packages differ from install-deps.sh "
          "BUILD_PKGS: only in Dockerfile %s, only in install-deps.sh %s"
          % (sorted(set(bp) - set(want)), sorted(set(want) - set(bp))))
    runtime = set(apt_packages(run))
    check(not any(p.endswith("-dev") for p in runtime), "run stage installs -dev packages")
    for b in BINS:
        for lib, pkg in needed_packages(b).items():
            if pkg is not None and not (SANITIZED and re.match(r"lib(asan|ubsan)\d", pkg)):
                check(pkg in runtime or pkg in BASE,
                      "%s needs %s from %s: not installed by the run stage"
                      % (os.path.basename(b), lib, pkg))
    runs = " ".join(a for i, a in build if i == "RUN")
    for prog in ("notifyd", "xfrd", "xfrctl", "zx-follow"):
        check(re.search(r"--target\b[^&]*\b%s\b" % re.escape(prog), runs) is not None
              and re.search(r"install\b[^&]*/%s\b" % re.escape(prog), runs) is not None,
              "build stage does not build and install %s" % prog)

    pats = ignore_patterns(SRC)
    for must in (".git", "build", "build-x"):
        check(ignored(must, pats), "Dockerfile.dockerignore must exclude %s" % must)
    dests = {}
    for i, a in ins:
        if i != "COPY" or "--from=" in a:
            continue
        words = [w for w in a.split() if not w.startswith("--")]
        for s in words[:-1]:
            if s == ".":
                continue
            check(os.path.exists(os.path.join(SRC, s)), "COPY source %s does not exist" % s)
            check(not ignored(s, pats), "COPY source %s is dockerignored" % s)
            dests[words[-1]] = s
    for i, a in run:
        if i in ("ENTRYPOINT", "HEALTHCHECK"):
            m = re.search(r"\[.*\]", a)
            exe = json.loads(m.group(0))[0] if m else None
            check(exe in dests, "%s runs %s, which no COPY provides" % (i, exe))
    users = [a for i, a in run if i == "USER"]
    check(len(users) == 1 and re.fullmatch(r"[1-9]\d*(:\d+)?", users[0]) is not None,
          "run stage needs one numeric non-root USER, has %s" % users)


if __name__ == "__main__":
    main()
    for e in errors:
        print("check_dockerfile: " + e)
    sys.exit(1 if errors else 0)
