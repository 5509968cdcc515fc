/* SPDX-License-Identifier: MIT */
/* notifyd/main.c -- entry point: arguments, config, event loop. The work is in server.c. */
#include "common/cfg/cfg.h"
#include "common/log.h"
#include "notifyd/server.h"

#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

static int usage(void)
{
	fprintf(stderr, "usage: notifyd -c CONFIG [--check]\n"
	                "       notifyd --version\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *path = NULL;
	int check = 0;
	log_init("notifyd", 2);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--version") == 0) {
			printf("notifyd 0.1.0\n");
			return 0;
		} else if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
			path = argv[++i];
		} else if (strcmp(argv[i], "--check") == 0) {
			check = 1;
		} else {
			return usage();
		}
	}
	if (path == NULL) {
		return usage();
	}
	struct cfg *cfg = NULL;
	char err[8192];
	if (cfg_load(path, &cfg, err, sizeof(err)) != 0) {
		size_t n = strlen(err); /* the loader's text may or may not end its last line */
		fprintf(stderr, "%s%s", err, n > 0 && err[n - 1] == '\n' ? "" : "\n");
		return 1;
	}
	if (check) {
		cfg_free(cfg);
		return 0;
	}
	log_set_level(cfg->log_level);
	signal(SIGPIPE, SIG_IGN);
	struct event_base *base = event_base_new();
	struct server *s = NULL;
	if (base == NULL || server_new(base, cfg, path, &s) != 0) {
		if (base != NULL) {
			event_base_free(base);
		}
		return 1;
	}
	log_info("started", "config=%s", path);
	int rc = event_base_dispatch(base);
	server_free(s);
	event_base_free(base);
	log_info("stopped", "loop=%d", rc);
	return rc < 0 ? 1 : 0;
}
