/* SPDX-License-Identifier: MIT */
/* common/log.h -- one line per event, key=value.
 *
 * A line looks like
 *   ts=2026-11-26T06:40:01.123Z level=info prog=xfrd event=xfr_done zone=example.com. serial=7 ...
 * Callers pass the event name and the rest as a printf format of key=value
 * pairs; values with spaces or quotes must go through log_quote(). Log once, at
 * the level that decides what happens; lower layers only return codes.
 *
 * Threading: log_write() may be called from any thread; each line is written
 * with one write(2) so lines never interleave. log_init()/log_set_level() are
 * called before threads start (the level is read without locks).
 */
#ifndef ZX_COMMON_LOG_H
#define ZX_COMMON_LOG_H

#include <stddef.h>

enum log_level { LOG_LVL_DEBUG = 0, LOG_LVL_INFO, LOG_LVL_WARN, LOG_LVL_ERROR };

/**
 * Set the program name and the file descriptor lines go to (default: "zx", 2).
 * @param prog borrowed; must outlive every later log call (a string literal)
 */
void log_init(const char *prog, int fd);

/** Lines below @p lvl are dropped. */
void log_set_level(enum log_level lvl);

/**
 * Parse "debug", "info", "warn" or "error".
 * @return 0 and *out set; ZX_EINVAL for anything else (*out untouched)
 */
int log_level_parse(const char *text, enum log_level *out);

/** True when a line at @p lvl would be written (to skip building costly values). */
int log_enabled(enum log_level lvl);

/**
 * Write one line: ts, level, prog, event, then the formatted key=value pairs.
 * Lines longer than 2 KiB are cut and end in "...".
 * @param event a short snake_case name ("notify_accepted"); borrowed
 * @param fmt   printf format for the remaining " key=value" pairs; may be NULL
 */
void log_write(enum log_level lvl, const char *event, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/**
 * Quote a value for a key=value line when it needs it: returns @p s itself when it
 * has no space, quote, '=' or control character, else writes "..." with \" and \\
 * escapes (and \xNN for control bytes) into @p buf.
 * @return @p s or @p buf; never NULL (cut to fit @p size)
 */
const char *log_quote(const char *s, char *buf, size_t size);

#define log_debug(ev, ...) log_write(LOG_LVL_DEBUG, ev, __VA_ARGS__)
#define log_info(ev, ...) log_write(LOG_LVL_INFO, ev, __VA_ARGS__)
#define log_warn(ev, ...) log_write(LOG_LVL_WARN, ev, __VA_ARGS__)
#define log_error(ev, ...) log_write(LOG_LVL_ERROR, ev, __VA_ARGS__)

#endif
