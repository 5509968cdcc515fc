/* SPDX-License-Identifier: MIT */
/* xfrd/api/problem.c -- RFC 7807 documents. */
#include "xfrd/api/problem.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* A JSON string of @p s; bytes that are not UTF-8 become '?' (details quote client input). */
static json_t *text(const char *s)
{
	json_t *j = json_string(s);
	if (j != NULL) {
		return j;
	}
	char buf[1024];
	size_t i = 0;
	for (; s[i] != '\0' && i < sizeof(buf) - 1; i++) {
		buf[i] = (unsigned char)s[i] < 0x80 ? s[i] : '?';
	}
	buf[i] = '\0';
	return json_string(buf);
}

const char *problem_reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 202:
		return "Accepted";
	case 204:
		return "No Content";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 409:
		return "Conflict";
	case 412:
		return "Precondition Failed";
	case 413:
		return "Content Too Large";
	case 415:
		return "Unsupported Media Type";
	case 422:
		return "Unprocessable Content";
	case 503:
		return "Service Unavailable";
	default:
		return status >= 500 ? "Internal Server Error" : "Error";
	}
}

json_t *problem_new(int status, const char *type, const char *detail, ...)
{
	char type_uri[96], msg[1024];
	snprintf(type_uri, sizeof(type_uri), "%s%s", PROBLEM_TYPE_PREFIX, type);
	json_t *p = json_pack("{s:s, s:s, s:i}", "type", type_uri, "title", problem_reason(status),
	                      "status", status);
	if (p != NULL && detail != NULL) {
		va_list ap;
		va_start(ap, detail);
		vsnprintf(msg, sizeof(msg), detail, ap);
		va_end(ap);
		if (json_object_set_new(p, "detail", text(msg)) != 0) {
			json_decref(p);
			return NULL;
		}
	}
	return p;
}

int problem_add_param(json_t *p, const char *name, const char *reason)
{
	json_t *list = json_object_get(p, "invalid-params");
	if (list == NULL) {
		list = json_array();
		if (list == NULL || json_object_set_new(p, "invalid-params", list) != 0) {
			return -1;
		}
	}
	json_t *item = json_object();
	if (item == NULL || json_array_append_new(list, item) != 0) {
		return -1;
	}
	return json_object_set_new(item, "name", text(name)) == 0 &&
	               json_object_set_new(item, "reason", text(reason)) == 0
	       ? 0
	       : -1;
}

json_t *problem_from_json_error(const json_error_t *e)
{
	json_t *p = problem_new(400, PROBLEM_MALFORMED, "the body is not JSON: %s (line %d, column %d)",
	                        e->text, e->line, e->column);
	if (p != NULL && (json_object_set_new(p, "line", json_integer(e->line)) != 0 ||
	                  json_object_set_new(p, "column", json_integer(e->column)) != 0)) {
		json_decref(p);
		return NULL;
	}
	return p;
}
