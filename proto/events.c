/* SPDX-License-Identifier: MIT */
/* proto/events.c -- protobuf-c wrappers with our error codes and text forms. */
#include "proto/events.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

int events_request_pack(Zx__Events__TransferRequest *req, uint8_t **out, size_t *len)
{
	if (req->zone == NULL || req->zone[0] == '\0') {
		return ZX_EINVAL;
	}
	req->schema = EVENTS_SCHEMA;
	size_t n = zx__events__transfer_request__get_packed_size(req);
	uint8_t *buf = malloc(n > 0 ? n : 1);
	if (buf == NULL) {
		return ZX_ENOMEM;
	}
	zx__events__transfer_request__pack(req, buf);
	*out = buf;
	*len = n;
	return 0;
}

int events_request_unpack(const uint8_t *buf, size_t len, Zx__Events__TransferRequest **out)
{
	Zx__Events__TransferRequest *req = zx__events__transfer_request__unpack(NULL, len, buf);
	if (req == NULL) {
		return ZX_EFORMAT;
	}
	if (req->zone == NULL || req->zone[0] == '\0') {
		zx__events__transfer_request__free_unpacked(req, NULL);
		return ZX_EFORMAT;
	}
	*out = req;
	return 0;
}

void events_request_free(Zx__Events__TransferRequest *req)
{
	if (req != NULL) {
		zx__events__transfer_request__free_unpacked(req, NULL);
	}
}

int events_update_pack(Zx__Events__ZoneUpdated *up, uint8_t **out, size_t *len)
{
	if (up->zone == NULL || up->zone[0] == '\0') {
		return ZX_EINVAL;
	}
	up->schema = EVENTS_SCHEMA;
	size_t n = zx__events__zone_updated__get_packed_size(up);
	uint8_t *buf = malloc(n > 0 ? n : 1);
	if (buf == NULL) {
		return ZX_ENOMEM;
	}
	zx__events__zone_updated__pack(up, buf);
	*out = buf;
	*len = n;
	return 0;
}

int events_update_unpack(const uint8_t *buf, size_t len, Zx__Events__ZoneUpdated **out)
{
	Zx__Events__ZoneUpdated *up = zx__events__zone_updated__unpack(NULL, len, buf);
	if (up == NULL) {
		return ZX_EFORMAT;
	}
	if (up->zone == NULL || up->zone[0] == '\0') {
		zx__events__zone_updated__free_unpacked(up, NULL);
		return ZX_EFORMAT;
	}
	*out = up;
	return 0;
}

void events_update_free(Zx__Events__ZoneUpdated *up)
{
	if (up != NULL) {
		zx__events__zone_updated__free_unpacked(up, NULL);
	}
}

static const char *enum_name(const ProtobufCEnumDescriptor *d, int value)
{
	const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(d, value);
	return v != NULL ? v->name : "unknown";
}

const char *events_request_str(const Zx__Events__TransferRequest *req, char *buf, size_t size)
{
	int n = snprintf(buf, size, "zone=%s origin=%s", req->zone,
	                 enum_name(&zx__events__origin__descriptor, req->origin));
	if (req->has_serial && n > 0 && (size_t)n < size) {
		n += snprintf(buf + n, size - (size_t)n, " serial=%" PRIu32, req->serial);
	}
	if (req->source_addr != NULL && req->source_addr[0] != '\0' && n > 0 && (size_t)n < size) {
		n += snprintf(buf + n, size - (size_t)n, " source=%s@%" PRIu32 " transport=%s%s%s",
		              req->source_addr, req->source_port,
		              enum_name(&zx__events__transport__descriptor, req->transport),
		              req->via_proxy ? " proxy=" : "", req->via_proxy ? req->proxy_addr : "");
	}
	if (req->tsig_key != NULL && req->tsig_key[0] != '\0' && n > 0 && (size_t)n < size) {
		snprintf(buf + n, size - (size_t)n, " key=%s", req->tsig_key);
	}
	return buf;
}

const char *events_update_str(const Zx__Events__ZoneUpdated *up, char *buf, size_t size)
{
	int n = snprintf(buf, size,
	                 "zone=%s kind=%s method=%s serial=%" PRIu32 " records=%" PRIu64
	                 " changes=%" PRIu64 " primary=%s replica=%s duration_ms=%" PRIu32,
	                 up->zone, enum_name(&zx__events__update_kind__descriptor, up->kind),
	                 enum_name(&zx__events__method__descriptor, up->method), up->new_serial,
	                 up->records, up->changes, up->primary, up->replica, up->duration_ms);
	if (up->has_old_serial && n > 0 && (size_t)n < size) {
		n += snprintf(buf + n, size - (size_t)n, " old_serial=%" PRIu32, up->old_serial);
	}
	if (up->error != NULL && up->error[0] != '\0' && n > 0 && (size_t)n < size) {
		snprintf(buf + n, size - (size_t)n, " error=\"%s\"", up->error);
	}
	return buf;
}
