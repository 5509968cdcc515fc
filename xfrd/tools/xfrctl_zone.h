/* SPDX-License-Identifier: MIT */
/* xfrd/tools/xfrctl_zone.h -- `xfrctl zone add|set|rm|list|status`, `xfrctl status|expire|
 * purge|notify`: the registry and the operator's actions through
 * xfrd's REST API (xfrd/api/api.h, docs/openapi.yaml), with libcurl
 * (xfrd/tools/apiclient.h).
 *
 *   add NAME --primary A@P... [--key K] [--json FILE|-]   PUT, If-None-Match: *
 *   set NAME KEY=VALUE... | --json FILE|-   [--if-match E]  PATCH (a JSON merge patch)
 *   rm NAME [--if-match E]                                    DELETE
 *   list [--state S] [--source file|registry]                 GET /v1/zones, every page
 *   status NAME                                               GET /v1/zones/NAME/status
 *   status                                                    GET /v1/status (the daemon)
 *   expire NAME | purge --confirm NAME | notify NAME          POST /v1/zones/NAME/ACTION
 * (xfrctl status|expire|purge|notify ... come here too, as zone status|expire|...)
 *
 * set's KEY=VALUE: KEY is a key of the zone's JSON form, one level of nesting with a
 * dot (refresh.min=5m, serve.allow=10.0.0.0/8); list keys (primaries, notify-keys,
 * notify-from, notify, serve.allow, serve.keys) take comma-separated values and "[]"
 * for an empty list; "KEY=" removes the key (the zone then has the default).
 *
 * The API's URL: --api URL, else http://ADDR:PORT of the config's xfrd.http (a
 * wildcard address becomes loopback). The token: --token-file FILE (its one line),
 * else $ZX_API_TOKEN.
 *
 * Output: one line of what was done, or a table (list), or key: value lines
 * (status: as knotc zone-status, times with their distance from now); with --json the API's JSON. Errors: the API's problem (status, detail,
 * each invalid field) on standard error (and with --json the problem document on
 * standard output).
 *
 * Threading: a program's main thread.
 */
#ifndef ZX_XFRD_TOOLS_XFRCTL_ZONE_H
#define ZX_XFRD_TOOLS_XFRCTL_ZONE_H

#include <stdbool.h>

/** xfrctl's exit statuses (docker/man/xfrctl.8). */
enum xfrctl_exit {
	XFRCTL_OK = 0,
	XFRCTL_NOZONE = 1,  /**< the zone is not there (store, configuration, or the API's 404) */
	XFRCTL_USAGE = 2,   /**< bad command line (or an unreadable --json input) */
	XFRCTL_STORE = 3,   /**< the store or the configuration could not be read */
	XFRCTL_KAFKA = 4,   /**< Kafka did not store the request */
	XFRCTL_REFUSED = 5, /**< the API refused: 400, 401, 403, 409, 412, 413, 415, 422 */
	XFRCTL_API = 6,     /**< the API could not be reached, or failed (5xx, 503) */
	XFRCTL_FAILED = 7,  /**< --wait: the transfer failed */
	XFRCTL_WAIT = 8,    /**< --wait: no outcome in time */
};

struct xfrctl_zone_opts {
	const char *config;     /**< -c; NULL: the default path */
	const char *api;        /**< --api URL; NULL: from the configuration */
	const char *token_file; /**< --token-file; NULL: $ZX_API_TOKEN */
	bool json;              /**< JSON output */
};

/**
 * Run `zone ...`: @p argv[0] is the subcommand, the rest its arguments and options
 * (--api, --token-file and -j/--json are also taken here).
 * @return an enum xfrctl_exit
 */
int xfrctl_zone_main(const struct xfrctl_zone_opts *o, int argc, char **argv);

#endif
