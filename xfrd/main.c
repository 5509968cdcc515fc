/* SPDX-License-Identifier: MIT */
/* xfrd/main.c -- entry point (thin; filled in by the xfrd issue). */
#include "common/log.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	log_init("xfrd", 2);
	if (argc > 1 && strcmp(argv[1], "--version") == 0) {
		printf("xfrd 0.1.0\n");
		return 0;
	}
	log_error("not_built", "what=\"xfrd is not built yet\"");
	return 1;
}
