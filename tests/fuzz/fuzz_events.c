/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_events.c -- libFuzzer target for the Kafka event decoders
 * (proto/events.c): a TransferRequest as xfrd's consumer reads it, a ZoneUpdated
 * as zx-follow and the zone builders read it.
 *
 * Input: byte 0 picks the message type (bit 0), the rest is the Kafka value.
 * Besides "no crash, no overread, no leak", it checks the decoder's promises: a
 * decoded event has a zone; its text form is NUL-terminated within the buffer
 * whatever the fields hold; its known fields pack again, and the packed bytes
 * decode to the same text (a field that does not survive a round trip is a
 * decoder bug); the
 * zone text goes through dname_from_text() as the consumer does.
 */
#include "common/dname.h"
#include "proto/events.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The round trip is about our fields. Unknown ones are kept by protobuf-c and
 * packed back as they came, and 1.4.1 accepts field number 0 (a tag of 0x81 0x00)
 * that it then refuses in its own output: its quirk, not a field of ours (zx
 * never packs an event it received). A shallow copy without them is packed. */
static void known_fields(ProtobufCMessage *m)
{
	m->n_unknown_fields = 0;
	m->unknown_fields = NULL;
}

static void request(const uint8_t *p, size_t n)
{
	Zx__Events__TransferRequest *req = NULL, *again = NULL;
	if (events_request_unpack(p, n, &req) != 0) {
		return;
	}
	char a[512], b[512];
	uint8_t wire[DNAME_MAXLEN];
	int wl = dname_from_text(req->zone, wire);
	events_request_str(req, a, sizeof(a));
	uint8_t *out = NULL;
	size_t len = 0;
	Zx__Events__TransferRequest known = *req; /* see known_fields() */
	known_fields(&known.base);
	if (req->zone == NULL || wl > DNAME_MAXLEN || memchr(a, '\0', sizeof(a)) == NULL ||
	    events_request_pack(&known, &out, &len) != 0 || events_request_unpack(out, len, &again) != 0 ||
	    strcmp(events_request_str(again, b, sizeof(b)), a) != 0) {
		abort();
	}
	free(out);
	events_request_free(again);
	events_request_free(req);
}

static void update(const uint8_t *p, size_t n)
{
	Zx__Events__ZoneUpdated *up = NULL, *again = NULL;
	if (events_update_unpack(p, n, &up) != 0) {
		return;
	}
	char a[512], b[512];
	uint8_t wire[DNAME_MAXLEN];
	int wl = dname_from_text(up->zone, wire);
	events_update_str(up, a, sizeof(a));
	uint8_t *out = NULL;
	size_t len = 0;
	Zx__Events__ZoneUpdated known = *up;
	known_fields(&known.base);
	if (up->zone == NULL || wl > DNAME_MAXLEN || memchr(a, '\0', sizeof(a)) == NULL ||
	    events_update_pack(&known, &out, &len) != 0 || events_update_unpack(out, len, &again) != 0 ||
	    strcmp(events_update_str(again, b, sizeof(b)), a) != 0) {
		abort();
	}
	free(out);
	events_update_free(again);
	events_update_free(up);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1) {
		return 0;
	}
	if (data[0] & 1) {
		update(data + 1, size - 1);
	} else {
		request(data + 1, size - 1);
	}
	return 0;
}
