/* SPDX-License-Identifier: MIT */
/* xfrctl/main.c -- entry point (thin; filled in by the xfrctl issue). */
#include "common/log.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	log_init("xfrctl", 2);
	if (argc > 1 && strcmp(argv[1], "--version") == 0) {
		printf("xfrctl 0.1.0\n");
		return 0;
	}
	log_error("not_built", "what=\"xfrctl is not built yet\"");
	return 1;
}
