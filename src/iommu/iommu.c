/* SPDX-License-Identifier: MIT */
/*
 * Address spaces: reference counting, the process default, and map/unmap on
 * top of the IOVA allocator, the map table and a kernel backend.
 *
 * Map order: IOVA from the allocator, then the kernel (ops->map), then the
 * map table, so a translation never hands out an IOVA the IOMMU does not have
 * yet; unmap goes the other way round.  Everything but translation runs under
 * iommu->lock.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support/log.h"

#include "iommu-priv.h"

int vfn_iommu_alloc(const struct vfn_iommu_backend_ops *ops, int fd, struct vfn_iommu **out)
{
	struct vfn_iommu *iommu = calloc(1, sizeof(*iommu));
	int ret;

	if (!iommu)
		return -ENOMEM;
	ret = pthread_mutex_init(&iommu->lock, NULL);
	if (ret) {
		free(iommu);
		return -ret;
	}
	iommu->ops = ops;
	iommu->refs = 1;
	iommu->fd = fd;
	vfn_maptable_init(&iommu->maps);
	*out = iommu;
	return 0;
}

void vfn_iommu_get(struct vfn_iommu *iommu)
{
	pthread_mutex_lock(&iommu->lock);
	iommu->refs++;
	pthread_mutex_unlock(&iommu->lock);
}

/* ---- backends ---- */

int vfn_iommu_pick_backend(enum vfn_iommu_backend want, const char *env, bool have_iommufd, bool have_cdev)
{
	switch (want) {
	case VFN_IOMMU_TYPE1:
	case VFN_IOMMU_IOMMUFD:
		return want;
	case VFN_IOMMU_AUTO:
		break;
	default:
		log_debug("iommu: unknown backend %d", (int)want);
		return -EINVAL;
	}
	if (env && !strcmp(env, "type1"))
		return VFN_IOMMU_TYPE1;
	if (env && !strcmp(env, "iommufd"))
		return VFN_IOMMU_IOMMUFD;
	if (env && env[0] && strcmp(env, "auto")) {
		log_err("iommu: VFN_IOMMU=%s: expected iommufd, type1 or auto", env);
		return -EINVAL;
	}
	return have_iommufd && have_cdev ? VFN_IOMMU_IOMMUFD : VFN_IOMMU_TYPE1;
}

int vfn_iommu_resolve_backend(enum vfn_iommu_backend want, int have_cdev)
{
	bool iommufd = !access("/dev/iommu", F_OK);

	if (have_cdev < 0)
		have_cdev = !access("/dev/vfio/devices", F_OK);
	return vfn_iommu_pick_backend(want, getenv("VFN_IOMMU"), iommufd, have_cdev);
}

int vfn_iommu_create_backend(enum vfn_iommu_backend backend, struct vfn_iommu **out)
{
	int b = vfn_iommu_resolve_backend(backend, -1);

	if (b < 0)
		return b;
	log_debug("iommu: new address space on %s", b == VFN_IOMMU_IOMMUFD ? "iommufd" : "type1");
	return b == VFN_IOMMU_IOMMUFD ? vfn_iommu_create_iommufd(out) : vfn_iommu_create_type1(out);
}

int vfn_iommu_create(struct vfn_iommu **out)
{
	return vfn_iommu_create_backend(VFN_IOMMU_AUTO, out);
}

enum vfn_iommu_backend vfn_iommu_get_backend(const struct vfn_iommu *iommu)
{
	return iommu ? iommu->ops->backend : VFN_IOMMU_AUTO;
}

const char *vfn_iommu_backend_name(const struct vfn_iommu *iommu)
{
	if (!iommu)
		return "(null)";
	if (iommu->compat)
		return "type1 (iommufd compat)";
	return iommu->ops->name;
}

/*
 * Each backend's process default is created on first use and then lives
 * until the process exits: its slot owns one reference that is never
 * dropped, so the container or IOAS is not re-created each time a program
 * opens and closes devices.  Its mappings do not outlive its devices:
 * detaching the last one unmaps them.  A failed creation is not
 * remembered, so a later call retries.
 */
static pthread_mutex_t default_lock = PTHREAD_MUTEX_INITIALIZER;
static struct vfn_iommu *default_iommu[VFN_IOMMU_IOMMUFD + 1];

int vfn_iommu_get_default_backend(enum vfn_iommu_backend backend, struct vfn_iommu **out)
{
	int ret = 0;

	if (backend != VFN_IOMMU_TYPE1 && backend != VFN_IOMMU_IOMMUFD) {
		log_debug("iommu: no default for backend %d", (int)backend);
		return -EINVAL;
	}
	pthread_mutex_lock(&default_lock);
	if (!default_iommu[backend])
		ret = vfn_iommu_create_backend(backend, &default_iommu[backend]);
	if (!ret) {
		vfn_iommu_get(default_iommu[backend]);
		*out = default_iommu[backend];
	}
	pthread_mutex_unlock(&default_lock);
	return ret;
}

int vfn_iommu_get_default(struct vfn_iommu **out)
{
	int b = vfn_iommu_resolve_backend(VFN_IOMMU_AUTO, -1);

	return b < 0 ? b : vfn_iommu_get_default_backend((enum vfn_iommu_backend)b, out);
}

/* Tells the kernel to drop @e and forgets it.  Returns 0 or ops->unmap's error. */
static int unmap_entry(struct vfn_iommu *iommu, const struct vfn_map_entry *e)
{
	int ret = iommu->ops->unmap(iommu, e->iova, e->len);

	if (ret) {
		log_err("iommu: unmap of iova %#llx (%#llx bytes) failed: %d", (unsigned long long)e->iova,
			(unsigned long long)e->len, ret);
		return ret;
	}
	vfn_maptable_remove(&iommu->maps, e->vaddr, NULL);
	vfn_iova_free(&iommu->iova, e->iova, e->len);
	if (iommu->dma_avail_known)
		iommu->dma_avail++;
	return 0;
}

/* Teardown: unmaps every mapping, forgetting those the kernel refuses to drop. */
static void unmap_all(struct vfn_iommu *iommu)
{
	struct vfn_map_entry e;

	while (!vfn_maptable_first(&iommu->maps, &e)) {
		log_debug("iommu: unmapping leftover %#llx bytes at iova %#llx", (unsigned long long)e.len,
			  (unsigned long long)e.iova);
		if (unmap_entry(iommu, &e)) {
			vfn_maptable_remove(&iommu->maps, e.vaddr, NULL);
			vfn_iova_free(&iommu->iova, e.iova, e.len);
		}
	}
}

/* Back to the state before the first attach (lock held). */
static void make_unready(struct vfn_iommu *iommu)
{
	unmap_all(iommu);
	vfn_iova_destroy(&iommu->iova);
	iommu->ready = false;
	iommu->nranges = 0;
	iommu->dma_avail_known = false;
	iommu->dma_avail = 0;
}

void vfn_iommu_put(struct vfn_iommu *iommu)
{
	int refs;

	if (!iommu)
		return;
	pthread_mutex_lock(&iommu->lock);
	refs = --iommu->refs;
	pthread_mutex_unlock(&iommu->lock);
	if (refs)
		return;

	if (iommu->ngroups || iommu->ndevices)
		log_debug("iommu: freed with %d group(s), %d device(s) still attached", iommu->ngroups,
			  iommu->ndevices);
	make_unready(iommu);
	vfn_maptable_destroy(&iommu->maps);
	iommu->ops->destroy(iommu);
	pthread_mutex_destroy(&iommu->lock);
	free(iommu);
}

int vfn_iommu_set_ranges(struct vfn_iommu *iommu, const struct vfn_iova_range *ranges, int n)
{
	int ret;

	if (iommu->ready) {
		log_debug("iommu: ranges already set");
		return -EBUSY;
	}
	if (n <= 0 || n > VFN_IOMMU_MAX_RANGES) {
		log_debug("iommu: %d IOVA ranges (1..%d accepted)", n, VFN_IOMMU_MAX_RANGES);
		return -EINVAL;
	}
	ret = vfn_iova_init(&iommu->iova, ranges, n, vfn_page_size());
	if (ret)
		return ret;
	memcpy(iommu->ranges, ranges, (size_t)n * sizeof(ranges[0]));
	iommu->nranges = n;
	iommu->ready = true;
	for (int i = 0; i < n; i++)
		log_debug("iommu: usable IOVA range [%#llx, %#llx]", (unsigned long long)ranges[i].start,
			  (unsigned long long)ranges[i].last);
	return 0;
}

/*
 * What get_ranges reports after narrowing: the parts of the old ranges that
 * are also in the new ones (each list sorted and disjoint, as the kernel
 * reports them).  Returns how many, at most VFN_IOMMU_MAX_RANGES.
 */
static int intersect_ranges(const struct vfn_iova_range *a, int na, const struct vfn_iova_range *b, int nb,
			    struct vfn_iova_range *out)
{
	int n = 0;

	for (int i = 0; i < na; i++)
		for (int j = 0; j < nb && n < VFN_IOMMU_MAX_RANGES; j++) {
			uint64_t start = a[i].start > b[j].start ? a[i].start : b[j].start;
			uint64_t last = a[i].last < b[j].last ? a[i].last : b[j].last;

			if (start <= last)
				out[n++] = (struct vfn_iova_range){ start, last };
		}
	return n;
}

int vfn_iommu_narrow_ranges(struct vfn_iommu *iommu, const struct vfn_iova_range *ranges, int n)
{
	struct vfn_iova_range both[VFN_IOMMU_MAX_RANGES];
	int nboth, ret;

	if (n <= 0 || n > VFN_IOMMU_MAX_RANGES) {
		log_debug("iommu: %d IOVA ranges (1..%d accepted)", n, VFN_IOMMU_MAX_RANGES);
		return -EINVAL;
	}
	ret = vfn_iova_restrict(&iommu->iova, ranges, n);
	if (ret) {
		log_debug("iommu: cannot narrow the usable IOVA ranges: %d", ret);
		return ret;
	}
	/* Never wider than before: a detached device may have widened the kernel's. */
	nboth = intersect_ranges(iommu->ranges, iommu->nranges, ranges, n, both);
	memcpy(iommu->ranges, both, (size_t)nboth * sizeof(both[0]));
	iommu->nranges = nboth;
	return 0;
}

int vfn_iommu_attach_device(struct vfn_iommu *iommu, int device_fd, bool *refused)
{
	int ret;

	*refused = false;
	if (!iommu->ops->bind_device) {
		log_err("iommu: a %s address space cannot take a device opened through its cdev", iommu->ops->name);
		return -EINVAL;
	}
	pthread_mutex_lock(&iommu->lock);
	ret = iommu->ops->bind_device(iommu, device_fd);
	if (!ret) {
		ret = iommu->ops->attach_device(iommu, device_fd);
		*refused = ret != 0;
	}
	if (!ret)
		iommu->ndevices++;
	pthread_mutex_unlock(&iommu->lock);
	return ret;
}

void vfn_iommu_detach_device(struct vfn_iommu *iommu)
{
	pthread_mutex_lock(&iommu->lock);
	if (!iommu->ndevices) {
		log_debug("iommu: device detach with none attached");
	} else {
		if (iommu->ndevices + iommu->ngroups == 1)
			make_unready(iommu);
		iommu->ndevices--;
	}
	pthread_mutex_unlock(&iommu->lock);
}

int vfn_iommu_attach_group(struct vfn_iommu *iommu, int group_fd)
{
	int ret;

	if (!iommu->ops->attach_group) {
		log_err("iommu: a VFIO group cannot join an %s address space; open the device through its cdev",
			iommu->ops->name);
		return -EINVAL;
	}
	pthread_mutex_lock(&iommu->lock);
	ret = iommu->ops->attach_group(iommu, group_fd);
	if (!ret)
		iommu->ngroups++;
	pthread_mutex_unlock(&iommu->lock);
	return ret;
}

void vfn_iommu_detach_group(struct vfn_iommu *iommu, int group_fd)
{
	pthread_mutex_lock(&iommu->lock);
	if (!iommu->ngroups) {
		log_debug("iommu: detach of group fd %d with none attached", group_fd);
		goto unlock;
	}
	/* Unmap while the container still has its IOMMU model. */
	if (iommu->ngroups + iommu->ndevices == 1)
		make_unready(iommu);
	iommu->ops->detach_group(iommu, group_fd);
	iommu->ngroups--;
unlock:
	pthread_mutex_unlock(&iommu->lock);
}

/* Validates a caller's buffer: page-aligned, non-empty, not wrapping. */
static int check_buffer(const void *vaddr, size_t len)
{
	uintptr_t va = (uintptr_t)vaddr, mask = vfn_page_size() - 1;

	if (!va || !len || (va & mask) || (len & mask) || va + (len - 1) < va) {
		log_debug("iommu: bad buffer %p+%#zx (page-aligned, non-empty, non-NULL)", vaddr, len);
		return -EINVAL;
	}
	return 0;
}

/* Checks that a new mapping of @vaddr may go ahead (lock held). */
static int check_map_state(struct vfn_iommu *iommu, void *vaddr, size_t len)
{
	if (!iommu->ready) {
		log_debug("iommu: map before any device is attached (no IOVA ranges yet)");
		return -EINVAL;
	}
	if (iommu->dma_avail_known && !iommu->dma_avail) {
		log_debug("iommu: the kernel's DMA mapping limit is reached");
		return -ENOSPC;
	}
	if (vfn_maptable_overlaps(&iommu->maps, (uintptr_t)vaddr, len)) {
		log_debug("iommu: %p+%#zx overlaps an existing mapping", vaddr, len);
		return -EEXIST;
	}
	return 0;
}

/* Maps @vaddr at *@iova, chosen here unless @fixed (lock held). */
static int map_locked(struct vfn_iommu *iommu, void *vaddr, size_t len, uint64_t *iova, bool fixed)
{
	int ret = check_map_state(iommu, vaddr, len);

	if (ret)
		return ret;
	if (fixed)
		ret = vfn_iova_alloc_at(&iommu->iova, *iova, len);
	else
		ret = vfn_iova_alloc(&iommu->iova, len, iova);
	if (ret)
		return ret;
	ret = iommu->ops->map(iommu, vaddr, len, *iova);
	if (ret)
		goto free_iova;
	ret = vfn_maptable_insert(&iommu->maps, (uintptr_t)vaddr, len, *iova);
	if (ret)
		goto unmap_kernel;
	if (iommu->dma_avail_known)
		iommu->dma_avail--;
	return 0;

unmap_kernel:
	iommu->ops->unmap(iommu, *iova, len);
free_iova:
	vfn_iova_free(&iommu->iova, *iova, len);
	return ret;
}

static int map_common(struct vfn_iommu *iommu, void *vaddr, size_t len, uint64_t *iova, bool fixed)
{
	int ret = check_buffer(vaddr, len);

	if (ret)
		return ret;
	pthread_mutex_lock(&iommu->lock);
	ret = map_locked(iommu, vaddr, len, iova, fixed);
	pthread_mutex_unlock(&iommu->lock);
	return ret;
}

int vfn_iommu_map(struct vfn_iommu *iommu, void *vaddr, size_t len, uint64_t *iova)
{
	uint64_t at;
	int ret = map_common(iommu, vaddr, len, &at, false);

	if (!ret)
		*iova = at;
	return ret;
}

int vfn_iommu_map_at(struct vfn_iommu *iommu, void *vaddr, size_t len, uint64_t iova)
{
	return map_common(iommu, vaddr, len, &iova, true);
}

int vfn_iommu_unmap(struct vfn_iommu *iommu, void *vaddr)
{
	struct vfn_map_entry e;
	int ret;

	pthread_mutex_lock(&iommu->lock);
	ret = vfn_maptable_lookup(&iommu->maps, (uintptr_t)vaddr, &e);
	if (ret || e.vaddr != (uintptr_t)vaddr) {
		log_debug("iommu: unmap of %p: no mapping starts there", vaddr);
		ret = -ENOENT;
		goto unlock;
	}
	ret = unmap_entry(iommu, &e);
unlock:
	pthread_mutex_unlock(&iommu->lock);
	return ret;
}

int vfn_iommu_translate(struct vfn_iommu *iommu, const void *vaddr, uint64_t *iova, size_t *len)
{
	uint64_t va = (uintptr_t)vaddr;
	struct vfn_map_entry e;

	if (vfn_unlikely(vfn_maptable_lookup(&iommu->maps, va, &e))) {
		log_debug("iommu: translate of unmapped address %p", vaddr);
		return -ENOENT;
	}
	*iova = e.iova + (va - e.vaddr);
	if (len)
		*len = (size_t)(e.len - (va - e.vaddr));
	return 0;
}

int vfn_iommu_iova_to_vaddr(struct vfn_iommu *iommu, uint64_t iova, void **vaddr, size_t *len)
{
	struct vfn_map_entry e;

	if (vfn_maptable_lookup_iova(&iommu->maps, iova, &e)) {
		log_debug("iommu: iova %#llx is not mapped", (unsigned long long)iova);
		return -ENOENT;
	}
	*vaddr = (void *)(uintptr_t)(e.vaddr + (iova - e.iova));
	if (len)
		*len = (size_t)(e.len - (iova - e.iova));
	return 0;
}

int vfn_iommu_get_ranges(struct vfn_iommu *iommu, struct vfn_iova_range *ranges, int max)
{
	int n;

	pthread_mutex_lock(&iommu->lock);
	n = iommu->nranges;
	if (max > 0)
		memcpy(ranges, iommu->ranges, (size_t)(max < n ? max : n) * sizeof(ranges[0]));
	pthread_mutex_unlock(&iommu->lock);
	return n;
}

ssize_t vfn_dma_alloc(struct vfn_iommu *iommu, size_t len, void **vaddr, uint64_t *iova)
{
	ssize_t n;
	uint64_t at;
	void *p;
	int ret;

	n = vfn_mem_alloc(len, &p);
	if (n < 0)
		return n;
	ret = vfn_iommu_map(iommu, p, (size_t)n, &at);
	if (ret) {
		vfn_mem_free(p, (size_t)n);
		return ret;
	}
	*vaddr = p;
	*iova = at;
	return n;
}

void vfn_dma_free(struct vfn_iommu *iommu, void *vaddr, size_t len)
{
	int ret;

	if (!vaddr)
		return;
	ret = vfn_iommu_unmap(iommu, vaddr);
	if (ret && ret != -ENOENT) {
		/* Still in the IOMMU and in our table: reusing it would be wrong. */
		log_err("iommu: keeping %p (%zu bytes): it could not be unmapped", vaddr, len);
		return;
	}
	vfn_mem_free(vaddr, len);
}
