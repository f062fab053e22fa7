/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "nvme/prp.h"
#include "support/log.h"

#define PRP_ENTRY_SIZE 8u

static bool prp_page_size_ok(size_t page_size)
{
	return page_size >= 4096 && !(page_size & (page_size - 1));
}

/* Memory pages touched by [@iova, @iova + @len), @len > 0, no wrap. */
static size_t prp_pages(uint64_t iova, size_t len, size_t page_size)
{
	uint64_t mask = page_size - 1;

	return (size_t)((((iova & mask) + len - 1) >> __builtin_ctzll(page_size)) + 1);
}

size_t vfn_prp_list_slots(uint64_t iova, size_t len, size_t page_size, uint64_t list_iova)
{
	size_t pages = prp_pages(iova, len, page_size);
	size_t per_page = page_size / PRP_ENTRY_SIZE;
	size_t cap = (page_size - (list_iova & (page_size - 1))) / PRP_ENTRY_SIZE;
	size_t n, chains;

	if (pages <= 2)
		return 0;
	n = pages - 1; /* data entries: every page but the first */
	if (n <= cap)
		return n;
	/*
	 * Every list page that is not the last gives its last slot to a chain
	 * pointer: the first page holds cap - 1 entries, each full page after
	 * it per_page - 1, the last page the rest.  Closed form, so that a huge
	 * @len costs no more than a small one.
	 */
	n -= cap - 1;
	chains = n > per_page ? (n - per_page + per_page - 2) / (per_page - 1) : 0;
	return cap + n + chains;
}

static int prp_fill_list(uint64_t iova, size_t len, size_t page_size, const struct vfn_prp_list *list)
{
	uint64_t mask = page_size - 1;
	uint64_t page = (iova | mask) + 1; /* start of the second page */
	uint64_t slot = list->iova;
	size_t n = prp_pages(iova, len, page_size) - 1;
	size_t need = vfn_prp_list_slots(iova, len, page_size, list->iova);
	size_t i;

	if (need > list->entries) {
		log_debug("prp: list of %zu entries too small, %zu needed", list->entries, need);
		return -E2BIG;
	}
	for (i = 0; n; i++, slot += PRP_ENTRY_SIZE) {
		/* The last slot of a list page points to the next one if more than one entry remains. */
		if (n > 1 && !((slot + PRP_ENTRY_SIZE) & mask)) {
			list->vaddr[i] = vfn_cpu_to_le64(slot + PRP_ENTRY_SIZE);
			continue;
		}
		list->vaddr[i] = vfn_cpu_to_le64(page);
		page += page_size;
		n--;
	}
	return 0;
}

static int prp_check_args(uint64_t iova, size_t len, size_t page_size)
{
	if (!len) {
		log_debug("prp: zero length");
		return -EINVAL;
	}
	if (!prp_page_size_ok(page_size)) {
		log_debug("prp: page size %zu is not a power of two >= 4096", page_size);
		return -EINVAL;
	}
	if (iova & 3) {
		log_debug("prp: iova 0x%llx is not dword aligned", (unsigned long long)iova);
		return -EINVAL;
	}
	if (iova + (len - 1) < iova) {
		log_debug("prp: iova 0x%llx + %zu wraps", (unsigned long long)iova, len);
		return -EINVAL;
	}
	return 0;
}

int vfn_prp_build(uint64_t iova, size_t len, size_t page_size, const struct vfn_prp_list *list, uint64_t *prp1,
		  uint64_t *prp2)
{
	uint64_t mask = page_size - 1;
	size_t first = page_size - (iova & mask);
	int ret;

	ret = prp_check_args(iova, len, page_size);
	if (ret)
		return ret;
	if (len <= first) {
		*prp1 = iova;
		*prp2 = 0;
		return 0;
	}
	if (len - first <= page_size) {
		*prp1 = iova;
		*prp2 = (iova | mask) + 1;
		return 0;
	}
	if (!list || (list->iova & (PRP_ENTRY_SIZE - 1))) {
		log_debug("prp: %zu bytes need a PRP list but it is %s", len, list ? "not qword aligned" : "missing");
		return -EINVAL;
	}
	ret = prp_fill_list(iova, len, page_size, list);
	if (ret)
		return ret;
	*prp1 = iova;
	*prp2 = list->iova;
	return 0;
}

static void sgl_desc(struct vfn_nvme_sgl_desc *desc, uint8_t type, uint64_t addr, uint32_t len)
{
	memset(desc, 0, sizeof(*desc));
	desc->addr = vfn_cpu_to_le64(addr);
	desc->length = vfn_cpu_to_le32(len);
	desc->type = (uint8_t)(type << 4);
}

void vfn_sgl_data_block(struct vfn_nvme_sgl_desc *desc, uint64_t iova, uint32_t len)
{
	sgl_desc(desc, VFN_NVME_SGL_TYPE_DATA_BLOCK, iova, len);
}

static int sgl_check_args(const struct vfn_sgl_chunk *chunks, size_t nr, const struct vfn_sgl_segment *seg)
{
	if (!nr || !chunks) {
		log_debug("sgl: no data chunks");
		return -EINVAL;
	}
	for (size_t i = 0; i < nr; i++) {
		if (!chunks[i].len) {
			log_debug("sgl: chunk %zu has zero length", i);
			return -EINVAL;
		}
	}
	if (nr == 1)
		return 0;
	if (!seg || (seg->iova & (sizeof(struct vfn_nvme_sgl_desc) - 1))) {
		log_debug("sgl: %zu chunks need a segment but it is %s", nr, seg ? "not 16-byte aligned" : "missing");
		return -EINVAL;
	}
	if (nr > seg->entries || nr > UINT32_MAX / sizeof(struct vfn_nvme_sgl_desc)) {
		log_debug("sgl: segment of %zu descriptors too small for %zu chunks", seg->entries, nr);
		return -E2BIG;
	}
	return 0;
}

int vfn_sgl_build(struct vfn_nvme_sgl_desc *dptr, const struct vfn_sgl_chunk *chunks, size_t nr,
		  const struct vfn_sgl_segment *seg)
{
	int ret = sgl_check_args(chunks, nr, seg);

	if (ret)
		return ret;
	if (nr == 1) {
		vfn_sgl_data_block(dptr, chunks[0].iova, chunks[0].len);
		return 0;
	}
	for (size_t i = 0; i < nr; i++)
		vfn_sgl_data_block(&seg->descs[i], chunks[i].iova, chunks[i].len);
	sgl_desc(dptr, VFN_NVME_SGL_TYPE_LAST_SEGMENT, seg->iova, (uint32_t)(nr * sizeof(struct vfn_nvme_sgl_desc)));
	return 0;
}
