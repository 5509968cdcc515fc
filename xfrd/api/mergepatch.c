/* SPDX-License-Identifier: MIT */
/* xfrd/api/mergepatch.c -- RFC 7396, as its section 2 writes it. */
#include "xfrd/api/mergepatch.h"

json_t *mergepatch_apply(json_t *target, const json_t *patch)
{
	if (!json_is_object(patch)) {
		json_decref(target);
		return json_deep_copy(patch);
	}
	if (!json_is_object(target)) {
		json_decref(target);
		target = json_object();
		if (target == NULL) {
			return NULL;
		}
	}
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)patch, k, v) {
		if (json_is_null(v)) {
			(void)json_object_del(target, k); /* absent already: nothing to do */
			continue;
		}
		json_t *cur = json_object_get(target, k);
		json_t *merged = mergepatch_apply(cur != NULL ? json_incref(cur) : NULL, v);
		if (merged == NULL || json_object_set_new(target, k, merged) != 0) {
			json_decref(target);
			return NULL;
		}
	}
	return target;
}
