/* SPDX-License-Identifier: MIT */
/* xfrd/tools/apiclient.h -- a client of xfrd's REST API (xfrd/api/api.h), for xfrctl zone.
 *
 * One libcurl easy handle, a base URL ("http://127.0.0.1:9154") and a bearer token;
 * each call sends one request and reads the whole answer: its status, its body as
 * JSON (the API answers JSON or an RFC 7807 problem), and the headers xfrctl uses
 * (ETag, Location). No retries: a 503 is given back to the caller like any status.
 *
 * Threading: one client per thread (curl_global_init() must have run: apiclient_new()
 * does it the first time, not thread-safely).
 */
#ifndef ZX_XFRD_TOOLS_APICLIENT_H
#define ZX_XFRD_TOOLS_APICLIENT_H

#include "common/err.h"

#include <jansson.h>

struct apiclient;

/** Most bytes of an answer read (a page of 1000 zones is far smaller). */
#define APICLIENT_MAX_BODY (16 * 1024 * 1024)
/** A call gives up after this long. */
#define APICLIENT_TIMEOUT_S 30

/** One answer. */
struct apiclient_reply {
	long status;         /**< the HTTP status */
	json_t *body;        /**< the body when it is JSON; NULL otherwise (apiclient_reply_clear()) */
	char etag[96];       /**< "" when none */
	char location[1100]; /**< "" when none */
	char error[512];     /**< on an error return: what went wrong (curl's words) */
};

/**
 * @param base   "http://host:port" (a trailing slash is dropped); copied
 * @param token  the bearer token; copied
 * @param[out] out returned owned (apiclient_free()); untouched on error
 * @return 0; ZX_EINVAL empty base or a token with a line break; ZX_ENOMEM
 */
ZX_MUSTCHECK int apiclient_new(const char *base, const char *token, struct apiclient **out);

/** Free. NULL ok. */
void apiclient_free(struct apiclient *a);

/**
 * Send @p method @p path (with its query) and read the answer.
 * @param body     NULL: no body; else sent as JSON (borrowed)
 * @param ctype    the body's Content-Type; NULL: application/json
 * @param headers  more request headers ("If-None-Match: *"), NULL-terminated; may be NULL
 * @param[out] out the answer (its body owned: apiclient_reply_clear()); on error only
 *                 out->error is set
 * @return 0 an answer came (any status); ZX_EIO no answer (connection, timeout: out->error);
 *         ZX_ENOMEM
 */
ZX_MUSTCHECK int apiclient_call(struct apiclient *a, const char *method, const char *path,
                                const json_t *body, const char *ctype,
                                const char *const *headers, struct apiclient_reply *out);

/** Release what a reply holds (its body). */
void apiclient_reply_clear(struct apiclient_reply *r);

/**
 * @p text percent-encoded for a path segment or a query value (RFC 3986 unreserved kept).
 * @return malloc'd (free()); NULL out of memory
 */
char *apiclient_escape(const char *text);

#endif
