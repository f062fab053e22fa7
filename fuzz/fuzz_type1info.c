/* SPDX-License-Identifier: MIT */
/*
 * vfn_iommu_parse_type1_info() on arbitrary VFIO_IOMMU_GET_INFO replies: it
 * reads only inside the buffer (ASan sees the exact size), terminates on any
 * capability chain, returns 0 or -EINVAL, and keeps at most
 * VFN_IOMMU_MAX_RANGES ranges, each copied from the reply.
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "iommu/iommu-priv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vfn_iommu_type1_caps caps;
	uint8_t *buf = malloc(size ? size : 1);
	int ret;

	assert(buf);
	memcpy(buf, data, size);
	ret = vfn_iommu_parse_type1_info(buf, size, &caps);
	assert(ret == 0 || ret == -EINVAL);
	assert(caps.nranges >= 0 && caps.nranges <= VFN_IOMMU_MAX_RANGES);
	for (int i = 0; i < caps.nranges; i++) {
		uint64_t r[2] = { caps.ranges[i].start, caps.ranges[i].last };

		assert(memmem(buf, size, r, sizeof(r)));
	}
	free(buf);
	return 0;
}
