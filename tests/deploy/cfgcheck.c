/* SPDX-License-Identifier: MIT */
/* tests/deploy/cfgcheck.c -- load config files with the daemons' own parser.
 *
 * Usage: deploy_cfgcheck FILE...; for each file one line "FILE: ok, N zones" or the
 * parser's file:line:column messages, then "FILE: warning: ..." for settings that
 * work against each other (cfg_warnings(): what xfrd would log at start). Exit 0
 * when every file loads without a warning, 1 otherwise.
 * deploy_configs.sh runs it on the configs of docker/compose/ and docker/k8s/.
 */
#include "common/cfg/cfg.h"
#include "common/err.h"

#include <stdio.h>

static int check_one(const char *path)
{
	char err[4096] = "";
	struct cfg *cfg = NULL;
	int rc = cfg_load(path, &cfg, err, sizeof(err));
	if (rc != 0) {
		printf("%s: %s\n%s\n", path, zx_strerror(rc), err);
		return 1;
	}
	printf("%s: ok, %zu zones\n", path, cfg->zone_count);
	char w[512];
	size_t n = cfg_warnings(cfg, w, sizeof(w));
	if (n > 0) {
		printf("%s: warning: %s%s\n", path, w, n > 1 ? " (and more)" : "");
	}
	cfg_free(cfg);
	return n > 0;
}

int main(int argc, char **argv)
{
	int failed = argc < 2;
	for (int i = 1; i < argc; i++) {
		failed |= check_one(argv[i]);
	}
	return failed;
}
