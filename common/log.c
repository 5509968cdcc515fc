/* SPDX-License-Identifier: MIT */
/* common/log.c -- key=value event lines, one write(2) each. */
#include "common/log.h"

#include "common/clock.h"
#include "common/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static const char *log_prog = "zx";
static int log_fd = 2;
static enum log_level log_min = LOG_LVL_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_init(const char *prog, int fd)
{
	log_prog = prog;
	log_fd = fd;
}

void log_set_level(enum log_level lvl)
{
	log_min = lvl;
}

int log_level_parse(const char *text, enum log_level *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcasecmp(text, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return ZX_EINVAL;
}

int log_enabled(enum log_level lvl)
{
	return lvl >= log_min;
}

void log_write(enum log_level lvl, const char *event, const char *fmt, ...)
{
	if (lvl < log_min) {
		return;
	}
	char line[2048];
	int64_t ms = clock_wall_ms();
	time_t sec = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&sec, &tm);
	int n = snprintf(line, sizeof(line),
	                 "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s prog=%s event=%s",
	                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	                 tm.tm_sec, (long)(ms % 1000), level_names[lvl], log_prog, event);
	if (n < 0) {
		return;
	}
	size_t len = (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
	if (fmt != NULL && len < sizeof(line) - 1) {
		line[len++] = ' ';
		va_list ap;
		va_start(ap, fmt);
		int m = vsnprintf(line + len, sizeof(line) - len, fmt, ap);
		va_end(ap);
		if (m > 0) {
			len += (size_t)m;
		}
	}
	if (len >= sizeof(line) - 1) {
		len = sizeof(line) - 5;
		memcpy(line + len, "...", 3);
		len += 3;
	}
	line[len++] = '\n';
	ssize_t w = write(log_fd, line, len);
	(void)w; /* nowhere to report a failed log write */
}

const char *log_quote(const char *s, char *buf, size_t size)
{
	int plain = s[0] != '\0';
	for (const char *p = s; *p != '\0' && plain; p++) {
		unsigned char c = (unsigned char)*p;
		if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7f) {
			plain = 0;
		}
	}
	if (plain || size < 3) {
		return s;
	}
	size_t o = 0;
	buf[o++] = '"';
	for (const char *p = s; *p != '\0' && o + 5 < size; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '"' || c == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)c;
		} else if (c < ' ' || c == 0x7f) {
			o += (size_t)snprintf(buf + o, size - o, "\\x%02x", c);
		} else {
			buf[o++] = (char)c;
		}
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}
