/* SPDX-License-Identifier: MIT */
/* tests/fuzz/main.c -- replay a fuzz target's corpus without libFuzzer.
 *
 * Linked into every fuzz target when ZX_FUZZ is off, so each corpus file runs
 * through LLVMFuzzerTestOneInput() as an ordinary unit test under gcc (and
 * ASan/UBSan with ZX_SANITIZE), as Knot's tests-fuzz/main.c does. Arguments:
 * corpus directories or files. Exit 0 when every input ran, 1 when none could
 * be read (an empty corpus is a broken test, not a pass).
 */
#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		return 0;
	}
	uint8_t *buf = malloc(1 << 20);
	size_t n = buf == NULL ? 0 : fread(buf, 1, 1 << 20, f);
	fclose(f);
	if (buf == NULL) {
		return 0;
	}
	/* An exact-size copy, so ASan catches a read one past the input. */
	uint8_t *exact = malloc(n > 0 ? n : 1);
	if (exact != NULL) {
		memcpy(exact, buf, n);
		LLVMFuzzerTestOneInput(exact, n);
	}
	free(exact);
	free(buf);
	return exact != NULL;
}

static int run_path(const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		return 0;
	}
	if (!S_ISDIR(st.st_mode)) {
		return run_file(path);
	}
	DIR *d = opendir(path);
	if (d == NULL) {
		return 0;
	}
	int ran = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.') {
			continue;
		}
		char full[4096];
		snprintf(full, sizeof(full), "%s/%s", path, e->d_name);
		ran += run_file(full);
	}
	closedir(d);
	return ran;
}

int main(int argc, char **argv)
{
	int ran = 0;
	for (int i = 1; i < argc; i++) {
		ran += run_path(argv[i]);
	}
	printf("replayed %d inputs\n", ran);
	return ran > 0 ? 0 : 1;
}
