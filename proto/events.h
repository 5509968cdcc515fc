/* SPDX-License-Identifier: MIT */
/* proto/events.h -- pack and unpack the Kafka events of proto/events.proto.
 *
 * The message types are protobuf-c's generated ones (proto/events.pb-c.h in the
 * build tree): Zx__Events__TransferRequest and Zx__Events__ZoneUpdated. This
 * module adds the schema version, error codes in our range, and a one-line
 * key=value text form used by logs and test tools.
 *
 * Threading: pure functions; messages belong to their caller.
 */
#ifndef ZX_PROTO_EVENTS_H
#define ZX_PROTO_EVENTS_H

#include "common/err.h"
#include "proto/events.pb-c.h"

#include <stddef.h>
#include <stdint.h>

/** The schema version this build writes into every event's `schema` field. */
#define EVENTS_SCHEMA 1

/**
 * Serialize a request (its `schema` is set to EVENTS_SCHEMA first).
 * @param[out] out  malloc'd bytes, owned by the caller (free()); untouched on error
 * @return 0; ZX_EINVAL when zone is empty; ZX_ENOMEM
 */
ZX_MUSTCHECK int events_request_pack(Zx__Events__TransferRequest *req, uint8_t **out, size_t *len);

/**
 * Parse a request.
 * @param[out] out owned by the caller, released with events_request_free()
 * @return 0; ZX_EFORMAT when the bytes are not a TransferRequest or have no zone
 */
ZX_MUSTCHECK int events_request_unpack(const uint8_t *buf, size_t len,
                                       Zx__Events__TransferRequest **out);
void events_request_free(Zx__Events__TransferRequest *req);

/** As events_request_pack() for a ZoneUpdated. */
ZX_MUSTCHECK int events_update_pack(Zx__Events__ZoneUpdated *up, uint8_t **out, size_t *len);

/** As events_request_unpack() for a ZoneUpdated. */
ZX_MUSTCHECK int events_update_unpack(const uint8_t *buf, size_t len,
                                      Zx__Events__ZoneUpdated **out);
void events_update_free(Zx__Events__ZoneUpdated *up);

/**
 * One-line text form ("zone=example.com. origin=notify serial=7 ..."), for logs
 * and test tools. Cut to fit @p size.
 * @return @p buf
 */
const char *events_request_str(const Zx__Events__TransferRequest *req, char *buf, size_t size);
const char *events_update_str(const Zx__Events__ZoneUpdated *up, char *buf, size_t size);

#endif
