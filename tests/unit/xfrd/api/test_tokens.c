/* tests/unit/xfrd/api/test_tokens.c -- the bearer tokens file: every documented code. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "xfrd/api/tokens.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define T1 "3q2-7w_Tk1sO0yVw4Wg8aQ"   /* 22 characters: the shortest allowed */
#define T2 "q8ZpN3jJd0A2m5bXc7Lr1v+/~.=="

static int parse(const char *text, struct tokens **t, char *err, size_t errlen)
{
	return tokens_parse("tok", text, strlen(text), t, err, errlen);
}

static void test_tokens_good_file_and_lookup(void **state)
{
	(void)state;
	struct tokens *t = NULL;
	char err[300] = "x";
	const char *text = "# name scope token\n"
	                   "\n"
	                   "alice   write  " T1 "   # the admin\n"
	                   "\tgrafana read " T2 "\r\n";
	assert_int_equal(parse(text, &t, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(tokens_count(t), 2);
	const char *name = NULL;
	enum tokens_scope scope = 0;
	assert_int_equal(tokens_check(t, T1, strlen(T1), &name, &scope), 0);
	assert_string_equal(name, "alice");
	assert_int_equal(scope, TOKENS_WRITE);
	assert_int_equal(tokens_check(t, T2, strlen(T2), &name, &scope), 0);
	assert_string_equal(name, "grafana");
	assert_int_equal(scope, TOKENS_READ);
	/* a prefix, a longer one, an empty one, another one: not found, out untouched */
	name = "untouched";
	assert_int_equal(tokens_check(t, T1, strlen(T1) - 1, &name, &scope), ZX_ENOTFOUND);
	assert_int_equal(tokens_check(t, T1 "x", strlen(T1) + 1, &name, &scope), ZX_ENOTFOUND);
	assert_int_equal(tokens_check(t, "", 0, &name, &scope), ZX_ENOTFOUND);
	assert_int_equal(tokens_check(t, T2, strlen(T2) - 2, &name, &scope), ZX_ENOTFOUND);
	assert_string_equal(name, "untouched");
	tokens_free(t);
	tokens_free(NULL);
}

static void test_tokens_empty_file_accepts_nobody(void **state)
{
	(void)state;
	struct tokens *t = NULL;
	char err[100];
	assert_int_equal(parse("# nobody yet\n", &t, err, sizeof(err)), 0);
	assert_int_equal(tokens_count(t), 0);
	const char *name;
	enum tokens_scope scope;
	assert_int_equal(tokens_check(t, T1, strlen(T1), &name, &scope), ZX_ENOTFOUND);
	tokens_free(t);
}

/* Each bad line fails the file with name:line and the reason. */
static void test_tokens_bad_lines_say_file_and_line(void **state)
{
	(void)state;
	static const struct {
		const char *text, *err;
	} cases[] = {
		{"alice write\n", "tok:1: expected \"NAME SCOPE TOKEN\", got 2 fields"},
		{"# c\nalice write " T1 " extra\n", "tok:2: expected \"NAME SCOPE TOKEN\", got 4"},
		{"alice admin " T1 "\n", "tok:1: unknown scope \"admin\"; expected read or write"},
		{"al!ce write " T1 "\n", "tok:1: name \"al!ce\": only letters"},
		{"alice write short\n", "tok:1: the token of \"alice\" has 5 characters; expected 22"},
		{"alice write " T1 "\n\nalice read " T2 "\n", "tok:3: name \"alice\" given twice"},
		{"alice write " T1 "\nbob read " T1 "\n", "tok:2: the token of \"bob\" is also"},
		{"alice write 3q2-7w_Tk1sO0yVw4Wg8aQ=x\n", "tok:1: the token of \"alice\": only"},
		{"alice write 3q2-7w_Tk1s\"0yVw4Wg8aQ\n", "tok:1: the token of \"alice\": only"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tokens *t = (struct tokens *)0x1;
		char err[300] = "";
		assert_int_equal(parse(cases[i].text, &t, err, sizeof(err)), ZX_EFORMAT);
		assert_ptr_equal(t, (struct tokens *)0x1); /* untouched */
		if (strncmp(err, cases[i].err, strlen(cases[i].err)) != 0) {
			fail_msg("case %zu: got \"%s\", want \"%s...\"", i, err, cases[i].err);
		}
	}
	char nul[] = "alice write " T1 "\n\0";
	struct tokens *t = NULL;
	char err[100];
	assert_int_equal(tokens_parse("tok", nul, sizeof(nul) - 1, &t, err, sizeof(err)),
	                 ZX_EFORMAT);
}

static void test_tokens_too_many(void **state)
{
	(void)state;
	size_t size = (size_t)(TOKENS_MAX + 1) * 64;
	char *text = malloc(size), *p = text;
	assert_non_null(text);
	for (int i = 0; i <= TOKENS_MAX; i++) {
		p += sprintf(p, "n%d read tok-%022d\n", i, i);
	}
	struct tokens *t = NULL;
	char err[100];
	assert_int_equal(tokens_parse("tok", text, (size_t)(p - text), &t, err, sizeof(err)),
	                 ZX_ELIMIT);
	assert_non_null(strstr(err, "more than 10000 tokens"));
	free(text);
}

static void test_tokens_load_reads_the_file(void **state)
{
	(void)state;
	char path[] = "/tmp/zx-test-tokens.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	const char text[] = "ops write " T1 "\nbad\n";
	assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)sizeof(text) - 1);
	close(fd);
	struct tokens *t = NULL;
	char err[300];
	assert_int_equal(tokens_load(path, &t, err, sizeof(err)), ZX_EFORMAT);
	char want[100];
	snprintf(want, sizeof(want), "%s:2: expected", path);
	assert_memory_equal(err, want, strlen(want));
	unlink(path);
	assert_int_equal(tokens_load(path, &t, err, sizeof(err)), ZX_ENOENT);
	assert_non_null(strstr(err, "cannot read"));
	assert_null(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tokens_good_file_and_lookup),
		cmocka_unit_test(test_tokens_empty_file_accepts_nobody),
		cmocka_unit_test(test_tokens_bad_lines_say_file_and_line),
		cmocka_unit_test(test_tokens_too_many),
		cmocka_unit_test(test_tokens_load_reads_the_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
