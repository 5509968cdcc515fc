/* SPDX-License-Identifier: MIT */
/* tests/unit/testutil/msgbuild.h -- build DNS response messages from presentation text
 * (through ldns, with name compression) for the xfrd tests. Test code only. */
#ifndef ZX_TESTS_XFRD_MSGBUILD_H
#define ZX_TESTS_XFRD_MSGBUILD_H

#include <stddef.h>
#include <stdint.h>

/**
 * Write a response to "@p qname IN @p qtype" with ID @p id and @p rcode, the
 * answer records @p rrs (presentation lines, NULL-terminated; "example.com. 3600
 * IN A 192.0.2.1"), and the question when @p with_question.
 * @return the message length; aborts the test program on any ldns error or
 *         when @p size is too small.
 */
size_t msgbuild(uint8_t *buf, size_t size, uint16_t id, uint8_t rcode, const char *qname,
                uint16_t qtype, int with_question, const char *const *rrs);

#endif
