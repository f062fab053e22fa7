/* SPDX-License-Identifier: MIT */
/*
 * The CLI's Identify printing (tools/id-show.c over tools/out.c, json.c and
 * the field tables) on arbitrary 4096-byte Identify Controller and Identify
 * Namespace data, as a device could return: json output must parse, normal
 * output must be printable text (device strings cannot put control bytes on
 * a terminal).  The first input byte picks the structure and the format.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vfn/spec.h>

#include "id-fields.h"
#include "json-check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_text(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		assert(c == '\n' || c == '\t' || (c >= 0x20 && c <= 0x7e));
	}
	assert(n && s[n - 1] == '\n');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	union {
		struct vfn_nvme_id_ctrl ctrl;
		struct vfn_nvme_id_ns ns;
		uint8_t raw[4096];
	} id;
	uint8_t mode = size ? data[0] : 0;
	FILE *saved = stdout, *mem;
	char *buf = NULL;
	size_t len = 0;
	struct out o;

	memset(&id, 0, sizeof(id));
	if (size > 1)
		memcpy(id.raw, data + 1, size - 1 < sizeof(id) ? size - 1 : sizeof(id));
	mem = open_memstream(&buf, &len);
	assert(mem);
	stdout = mem; /* the printing code writes to stdout */
	out_init(&o, mode & 1 ? OUT_JSON : OUT_NORMAL, mode & 2, 10);
	if (mode & 4)
		id_show_ns(&o, (uint32_t)size, &id.ns);
	else
		id_show_ctrl(&o, &id.ctrl);
	stdout = saved;
	assert(!ferror(mem));
	assert(fclose(mem) == 0);
	if (mode & 1)
		assert(json_check(buf, len));
	else
		check_text(buf, len);
	free(buf);
	return 0;
}
