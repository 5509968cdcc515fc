/* SPDX-License-Identifier: MIT */
/* xfrd/tools/apiclient.c -- libcurl + jansson for xfrd's REST API. */
#include "xfrd/tools/apiclient.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct apiclient {
	CURL *c;
	char base[1024];
	char auth[1100];
};

struct buf {
	char *p;
	size_t len, cap;
	bool too_big;
};

static size_t on_data(char *data, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;
	size_t len = size * n;
	if (b->len + len + 1 > APICLIENT_MAX_BODY) {
		b->too_big = true;
		return 0; /* curl stops: CURLE_WRITE_ERROR */
	}
	if (b->len + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + len + 1) {
			cap *= 2;
		}
		char *p = realloc(b->p, cap);
		if (p == NULL) {
			return 0;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
	b->p[b->len] = '\0';
	return len;
}

/* Keep the headers xfrctl uses. */
static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
	struct apiclient_reply *r = arg;
	size_t len = size * n;
	char line[1200];
	if (len >= sizeof(line)) {
		return len;
	}
	memcpy(line, data, len);
	line[len] = '\0';
	line[strcspn(line, "\r\n")] = '\0';
	if (strncasecmp(line, "ETag:", 5) == 0) {
		snprintf(r->etag, sizeof(r->etag), "%s", line + 5 + strspn(line + 5, " "));
	} else if (strncasecmp(line, "Location:", 9) == 0) {
		snprintf(r->location, sizeof(r->location), "%s", line + 9 + strspn(line + 9, " "));
	}
	return len;
}

int apiclient_new(const char *base, const char *token, struct apiclient **out)
{
	size_t bl = base != NULL ? strlen(base) : 0;
	while (bl > 0 && base[bl - 1] == '/') {
		bl--;
	}
	if (bl == 0 || bl >= 1024 || token == NULL || strpbrk(token, "\r\n") != NULL ||
	    strlen(token) > 1024) {
		return ZX_EINVAL;
	}
	static bool ready;
	if (!ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			return ZX_ENOMEM;
		}
		ready = true;
	}
	struct apiclient *a = calloc(1, sizeof(*a));
	if (a == NULL || (a->c = curl_easy_init()) == NULL) {
		free(a);
		return ZX_ENOMEM;
	}
	snprintf(a->base, sizeof(a->base), "%.*s", (int)bl, base);
	snprintf(a->auth, sizeof(a->auth), "Authorization: Bearer %s", token);
	*out = a;
	return 0;
}

void apiclient_free(struct apiclient *a)
{
	if (a != NULL) {
		curl_easy_cleanup(a->c);
		memset(a->auth, 0, sizeof(a->auth));
		free(a);
	}
}

void apiclient_reply_clear(struct apiclient_reply *r)
{
	json_decref(r->body);
	r->body = NULL;
}

char *apiclient_escape(const char *text)
{
	char *e = curl_easy_escape(NULL, text, 0);
	char *copy = e != NULL ? strdup(e) : NULL;
	curl_free(e);
	return copy;
}

static struct curl_slist *header_list(const struct apiclient *a, const char *ctype,
                                      const char *const *headers, bool body)
{
	struct curl_slist *h = NULL, *t;
	char ct[256];
	snprintf(ct, sizeof(ct), "Content-Type: %s", ctype != NULL ? ctype : "application/json");
	const char *fixed[] = {a->auth, "Accept: application/json, application/problem+json",
	                       "Expect:", body ? ct : NULL};
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		if (fixed[i] == NULL) {
			continue;
		}
		if ((t = curl_slist_append(h, fixed[i])) == NULL) {
			curl_slist_free_all(h);
			return NULL;
		}
		h = t;
	}
	for (size_t i = 0; headers != NULL && headers[i] != NULL; i++) {
		if ((t = curl_slist_append(h, headers[i])) == NULL) {
			curl_slist_free_all(h);
			return NULL;
		}
		h = t;
	}
	return h;
}

int apiclient_call(struct apiclient *a, const char *method, const char *path,
                   const json_t *body, const char *ctype, const char *const *headers,
                   struct apiclient_reply *out)
{
	memset(out, 0, sizeof(*out));
	char *text = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
	char url[4096];
	snprintf(url, sizeof(url), "%s%s", a->base, path);
	struct curl_slist *h = header_list(a, ctype, headers, body != NULL);
	if ((body != NULL && text == NULL) || h == NULL) {
		free(text);
		curl_slist_free_all(h);
		return ZX_ENOMEM;
	}
	struct buf b = {0};
	char err[CURL_ERROR_SIZE] = "";
	CURL *c = a->c;
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, out);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)APICLIENT_TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	if (text != NULL) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, text);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(text));
	} else if (strcmp(method, "GET") == 0) {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	} else if (strcmp(method, "DELETE") != 0) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, ""); /* Content-Length: 0 */
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
	}
	CURLcode cc = curl_easy_perform(c);
	curl_slist_free_all(h);
	free(text);
	int rc = 0;
	if (cc != CURLE_OK) {
		snprintf(out->error, sizeof(out->error), "%.200s: %.300s", url,
		         b.too_big ? "the answer is too large" : err[0] ? err : curl_easy_strerror(cc));
		rc = ZX_EIO;
	} else {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
		if (b.len > 0) {
			json_error_t je;
			out->body = json_loadb(b.p, b.len, 0, &je); /* NULL: not JSON */
		}
	}
	free(b.p);
	return rc;
}
