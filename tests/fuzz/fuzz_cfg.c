/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_cfg.c -- libFuzzer target for the config loader (common/cfg*) and
 * the key-file parser it calls (common/tsig/tsig_keyring.c).
 *
 * Input: byte 0 picks what the rest is: a YAML config (bit 0 clear), given to
 * cfg_load_string() as text (up to the first NUL), or a BIND/Knot key file (bit 0
 * set), written to a scratch file and read with tsig_keyring_add_file(). Besides
 * "no crash, no overread, no leak", it checks the loader's promises: a loaded
 * config finds each of its zones by name; a refused one says why (a non-empty
 * message); a key file that loads adds at least one key.
 */
#include "common/cfg/cfg.h"
#include "common/tsig/tsig.h"
#include "tests/fuzz/fuzz_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void config(const uint8_t *p, size_t n)
{
	char *text = malloc(n + 1);
	if (text == NULL) {
		return;
	}
	memcpy(text, p, n);
	text[n] = '\0';
	char err[2048];
	struct cfg *cfg = NULL;
	int rc = cfg_load_string("fuzz.yaml", text, &cfg, err, sizeof(err));
	if (rc == 0) {
		for (size_t i = 0; i < cfg->zone_count; i++) {
			if (cfg_zone_find(cfg, cfg->zones[i].name) != &cfg->zones[i] ||
			    cfg->zones[i].primaries.count == 0) {
				abort();
			}
		}
		cfg_free(cfg);
	} else if ((rc != ZX_ECONFIG && rc != ZX_ENOMEM) || cfg != NULL ||
	           (rc == ZX_ECONFIG && err[0] == '\0')) {
		abort();
	}
	free(text);
}

static void key_file(const uint8_t *p, size_t n)
{
	static char path[512];
	if (path[0] == '\0') {
		snprintf(path, sizeof(path), "%s/keys.conf", fuzz_tmpdir());
	}
	FILE *f = fopen(path, "wb");
	if (f == NULL || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
		abort();
	}
	struct tsig_keyring *ring = tsig_keyring_new();
	if (ring == NULL) {
		return;
	}
	char err[512] = "";
	int rc = tsig_keyring_add_file(ring, path, err, sizeof(err));
	if ((rc == 0 && tsig_keyring_count(ring) == 0) || (rc != 0 && err[0] == '\0')) {
		abort();
	}
	tsig_keyring_free(ring);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	if (fuzz_u8(&in) & 1) {
		key_file(in.p, in.n);
	} else {
		config(in.p, in.n);
	}
	return 0;
}
