/* SPDX-License-Identifier: MIT */
/* notifyd/main.c -- entry point (thin; filled in by the notifyd issue). */
#include "common/log.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	log_init("notifyd", 2);
	if (argc > 1 && strcmp(argv[1], "--version") == 0) {
		printf("notifyd 0.1.0\n");
		return 0;
	}
	log_error("not_built", "what=\"notifyd is not built yet\"");
	return 1;
}
