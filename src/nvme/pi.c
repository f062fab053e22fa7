// SPDX-License-Identifier: MIT
/*
 * Software protection information: generate and verify the PI tuples of a
 * transfer (see include/vfn/pi.h for the layout).  Used by callers writing
 * with PRACT=0 and by the simulator, which checks what the host sent.
 */
#include <errno.h>
#include <string.h>

#include <vfn/pi.h>

#include "nvme/pi-priv.h"
#include "support/log.h"

#define REF48_MASK 0xffffffffffffULL

int vfn_pi_format_check(const struct vfn_pi_format *fmt)
{
	if (!fmt) {
		log_debug("pi: no format");
		return -EINVAL;
	}
	if (fmt->pi_type < VFN_PI_TYPE1 || fmt->pi_type > VFN_PI_TYPE3) {
		log_debug("pi: PI type %u is not 1, 2 or 3", fmt->pi_type);
		return -EINVAL;
	}
	if (!vfn_pi_tuple_size(fmt->pif)) {
		log_debug("pi: PIF %u is not supported (16 or 64-bit guard only)", fmt->pif);
		return -EINVAL;
	}
	if (fmt->ms < vfn_pi_tuple_size(fmt->pif)) {
		log_debug("pi: %u bytes of metadata cannot hold a %zu-byte tuple", fmt->ms,
			  vfn_pi_tuple_size(fmt->pif));
		return -EINVAL;
	}
	if (!fmt->lba_size) {
		log_debug("pi: block size 0");
		return -EINVAL;
	}
	return 0;
}

/* One block's parts, and where its tuple is. */
struct pi_block {
	const uint8_t *data;
	const uint8_t *meta;
	size_t pil; /* offset of the tuple in the metadata */
};

static void pi_block_at(const struct vfn_pi_format *fmt, const uint8_t *data, const uint8_t *meta, uint32_t i,
			struct pi_block *b)
{
	if (fmt->extended) {
		b->data = data + (size_t)i * (fmt->lba_size + fmt->ms);
		b->meta = b->data + fmt->lba_size;
	} else {
		b->data = data + (size_t)i * fmt->lba_size;
		b->meta = meta + (size_t)i * fmt->ms;
	}
	b->pil = fmt->pi_first ? 0 : fmt->ms - vfn_pi_tuple_size(fmt->pif);
}

/* The guard over the data and the metadata before the tuple. */
static uint64_t pi_guard(const struct vfn_pi_format *fmt, const struct pi_block *b)
{
	if (fmt->pif == VFN_PI_PIF_16) {
		uint16_t crc = vfn_crc16_t10dif(0, b->data, fmt->lba_size);

		return b->pil ? vfn_crc16_t10dif(crc, b->meta, b->pil) : crc;
	}
	uint64_t crc = vfn_crc64_nvme(0, b->data, fmt->lba_size);

	return b->pil ? vfn_crc64_nvme(crc, b->meta, b->pil) : crc;
}

static void put_be(uint8_t *p, uint64_t v, int bytes)
{
	for (int i = bytes - 1; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static uint64_t get_be(const uint8_t *p, int bytes)
{
	uint64_t v = 0;

	for (int i = 0; i < bytes; i++)
		v = (v << 8) | p[i];
	return v;
}

/* A tuple's fields, host order. */
struct pi_tuple {
	uint64_t guard;
	uint16_t app;
	uint64_t ref;
};

static void tuple_put(uint8_t pif, uint8_t *t, const struct pi_tuple *v)
{
	if (pif == VFN_PI_PIF_16) {
		put_be(t, v->guard, 2);
		put_be(t + 2, v->app, 2);
		put_be(t + 4, v->ref, 4);
	} else {
		put_be(t, v->guard, 8);
		put_be(t + 8, v->app, 2);
		put_be(t + 10, v->ref, 6);
	}
}

static void tuple_get(uint8_t pif, const uint8_t *t, struct pi_tuple *v)
{
	int g = pif == VFN_PI_PIF_16 ? 2 : 8;

	v->guard = get_be(t, g);
	v->app = (uint16_t)get_be(t + g, 2);
	v->ref = get_be(t + g + 2, pif == VFN_PI_PIF_16 ? 4 : 6);
}

static uint64_t ref_mask(uint8_t pif)
{
	return pif == VFN_PI_PIF_16 ? 0xffffffffULL : REF48_MASK;
}

static int pi_args_check(const struct vfn_pi_format *fmt, const void *data, const void *meta,
			 const struct vfn_pi_tags *tags)
{
	int ret = vfn_pi_format_check(fmt);

	if (ret)
		return ret;
	if (!data || !tags || (!fmt->extended && !meta)) {
		log_debug("pi: NULL %s", !data ? "data" : !tags ? "tags" : "metadata buffer");
		return -EINVAL;
	}
	return 0;
}

int vfn_pi_generate(const struct vfn_pi_format *fmt, void *data, void *meta, uint32_t nlb,
		    const struct vfn_pi_tags *tags)
{
	int ret = pi_args_check(fmt, data, meta, tags);

	if (ret)
		return ret;
	uint64_t ref = tags->ref_tag;

	for (uint32_t i = 0; i < nlb; i++) {
		struct pi_block b;

		pi_block_at(fmt, data, meta, i, &b);
		struct pi_tuple v = { pi_guard(fmt, &b), tags->app_tag, ref & ref_mask(fmt->pif) };

		tuple_put(fmt->pif, (uint8_t *)b.meta + b.pil, &v);
		if (fmt->pi_type != VFN_PI_TYPE3)
			ref++;
	}
	return 0;
}

static bool pi_escape(const struct vfn_pi_format *fmt, const struct pi_tuple *v)
{
	if (v->app != 0xffff)
		return false;
	return fmt->pi_type != VFN_PI_TYPE3 || v->ref == ref_mask(fmt->pif);
}

static int pi_fail(struct vfn_pi_error *err, uint32_t block, uint16_t status, uint64_t expected, uint64_t found)
{
	if (err)
		*err = (struct vfn_pi_error){ block, status, expected, found };
	log_debug("pi: block %u: status 0x%x, expected 0x%llx, found 0x%llx", block, status,
		  (unsigned long long)expected, (unsigned long long)found);
	return -EIO;
}

int vfn_pi_verify(const struct vfn_pi_format *fmt, const void *data, const void *meta, uint32_t nlb,
		  const struct vfn_pi_tags *tags, struct vfn_pi_error *err)
{
	int ret = pi_args_check(fmt, data, meta, tags);

	if (ret)
		return ret;
	uint64_t ref = tags->ref_tag;

	for (uint32_t i = 0; i < nlb; i++, ref += fmt->pi_type != VFN_PI_TYPE3) {
		struct pi_block b;
		struct pi_tuple v;

		pi_block_at(fmt, data, meta, i, &b);
		tuple_get(fmt->pif, b.meta + b.pil, &v);
		if (pi_escape(fmt, &v))
			continue;
		if (tags->prchk & VFN_PI_PRCHK_GUARD) {
			uint64_t g = pi_guard(fmt, &b);

			if (g != v.guard)
				return pi_fail(err, i, VFN_PI_SC_GUARD, g, v.guard);
		}
		if ((tags->prchk & VFN_PI_PRCHK_APP) && (v.app & tags->app_mask) != (tags->app_tag & tags->app_mask))
			return pi_fail(err, i, VFN_PI_SC_APP_TAG, tags->app_tag, v.app);
		if ((tags->prchk & VFN_PI_PRCHK_REF) && fmt->pi_type != VFN_PI_TYPE3 &&
		    v.ref != (ref & ref_mask(fmt->pif)))
			return pi_fail(err, i, VFN_PI_SC_REF_TAG, ref & ref_mask(fmt->pif), v.ref);
	}
	return 0;
}

void vfn_pi_geometry(const uint8_t *id, const uint8_t *nvm, unsigned int idx, uint8_t *pi_type, bool *pi_first,
		     uint8_t *pif)
{
	uint8_t dps = id[VFN_PI_ID_NS_DPS];

	*pi_type = dps & 7;
	*pi_first = dps & VFN_PI_DPS_FIRST;
	*pif = 0;
	if (nvm && idx < 64) {
		const uint8_t *e = nvm + VFN_PI_ID_NS_NVM_ELBAF + 4 * idx;
		uint32_t elbaf = (uint32_t)e[0] | (uint32_t)e[1] << 8 | (uint32_t)e[2] << 16 | (uint32_t)e[3] << 24;

		*pif = (elbaf >> 7) & 3;
	}
}
