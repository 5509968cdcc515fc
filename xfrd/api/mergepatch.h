/* SPDX-License-Identifier: MIT */
/* xfrd/api/mergepatch.h -- JSON Merge Patch (RFC 7396), for PATCH /v1/zones/{name}.
 *
 * A patch that is an object changes its target member by member: a member set to
 * null removes that member, an object member is merged the same way (recursively),
 * any other value replaces the member. A patch that is not an object replaces the
 * whole target. (So a list cannot be patched item by item: it is given whole.)
 *
 * Threading: pure.
 */
#ifndef ZX_XFRD_API_MERGEPATCH_H
#define ZX_XFRD_API_MERGEPATCH_H

#include <jansson.h>

/**
 * Apply @p patch to @p target (RFC 7396 section 2, MergePatch(Target, Patch)).
 * @param target  TAKEN (a reference: the result may be it, changed in place); may be NULL
 *                (then as if it were not an object)
 * @param patch   borrowed; the result may share its members (references taken)
 * @return the patched document, a new reference (json_decref()); NULL when out of memory
 *         (@p target released all the same)
 */
json_t *mergepatch_apply(json_t *target, const json_t *patch);

#endif
