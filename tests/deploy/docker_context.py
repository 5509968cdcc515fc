# SPDX-License-Identifier: MIT
"""tests/deploy/docker_context.py -- copy the Docker build context of docker/Dockerfile.

Usage: docker_context.py SRC_DIR DEST_DIR
Copies SRC_DIR (the repository root, the context `docker build -f docker/Dockerfile .`
uses) to DEST_DIR, leaving out what docker/Dockerfile.dockerignore excludes, so that a
build from DEST_DIR sees the files `COPY . .` would put into the image's build stage.
Prints the number of files copied.
"""
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_dockerfile import ignore_patterns, ignored  # noqa: E402

src, dst = sys.argv[1], sys.argv[2]
pats = ignore_patterns(src)
n = 0
for root, dirs, files in os.walk(src):
    rel = os.path.relpath(root, src)
    rel = "" if rel == "." else rel + "/"
    dirs[:] = [d for d in dirs if not ignored(rel + d, pats)]
    os.makedirs(os.path.join(dst, rel), exist_ok=True)
    for f in files:
        if not ignored(rel + f, pats):
            shutil.copy2(os.path.join(root, f), os.path.join(dst, rel + f),
                         follow_symlinks=False)
            n += 1
print(n)
