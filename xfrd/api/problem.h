/* SPDX-License-Identifier: MIT */
/* xfrd/api/problem.h -- the REST API's error answers: RFC 7807 problem details.
 *
 * Every error the API sends is an application/problem+json document:
 *
 *   {"type": "urn:zx:problem:invalid-zone", "title": "Unprocessable Content",
 *    "status": 422, "detail": "2 fields are invalid",
 *    "invalid-params": [{"name": "primaries[1]", "reason": "bad endpoint ..."}]}
 *
 * type    "urn:zx:problem:" and one of the PROBLEM_* slugs below (stable: clients may
 *         branch on it); title: the status's reason phrase; status: the HTTP status;
 *         detail: what happened, in words; invalid-params (validation only): each bad
 *         field by its path in the zone's JSON form ("serve.allow[0]"; "" for the
 *         body as a whole) and why. A malformed body's problem also has "line" and
 *         "column" (1-based, jansson's). docs/openapi.yaml has the schema.
 *
 * Threading: pure.
 */
#ifndef ZX_XFRD_API_PROBLEM_H
#define ZX_XFRD_API_PROBLEM_H

#include <jansson.h>

/* The problem types (the part after "urn:zx:problem:"). */
#define PROBLEM_MALFORMED "malformed-request"    /**< 400: body not JSON, bad query, bad name */
#define PROBLEM_UNAUTHORIZED "unauthorized"      /**< 401: no or unknown bearer token */
#define PROBLEM_FORBIDDEN "forbidden"            /**< 403: read token writing, source not allowed */
#define PROBLEM_NOT_FOUND "not-found"            /**< 404: no such zone or path */
#define PROBLEM_METHOD "method-not-allowed"      /**< 405 */
#define PROBLEM_FILE_ZONE "file-zone"            /**< 409: the zone is the config file's */
#define PROBLEM_CONFLICT "conflict"              /**< 409: not now or not here (an action) */
#define PROBLEM_PRECONDITION "precondition-failed" /**< 412: If-Match / If-None-Match */
#define PROBLEM_TOO_LARGE "body-too-large"       /**< 413 */
#define PROBLEM_MEDIA_TYPE "unsupported-media-type" /**< 415 */
#define PROBLEM_INVALID "invalid-zone"           /**< 422: the zone's settings are invalid */
#define PROBLEM_UNAVAILABLE "unavailable"        /**< 503: registry not caught up, Kafka */
#define PROBLEM_INTERNAL "internal"              /**< 500 */

/** The URI prefix of every type. */
#define PROBLEM_TYPE_PREFIX "urn:zx:problem:"

/**
 * A problem document.
 * @param status  the HTTP status (its reason phrase becomes the title)
 * @param type    one of PROBLEM_*; borrowed
 * @param detail  printf format of the detail; NULL: none
 * @return a new reference (json_decref()); NULL when out of memory
 */
json_t *problem_new(int status, const char *type, const char *detail, ...)
	__attribute__((format(printf, 3, 4)));

/**
 * Append {"name": @p name, "reason": @p reason} to @p p's invalid-params (made on
 * the first call). @return 0; -1 out of memory
 */
int problem_add_param(json_t *p, const char *name, const char *reason);

/**
 * The 400 problem of a body jansson could not parse: its text, line and column.
 * @return a new reference; NULL when out of memory
 */
json_t *problem_from_json_error(const json_error_t *e);

/** The reason phrase of an HTTP status the API uses ("Unprocessable Content"). */
const char *problem_reason(int status);

#endif
