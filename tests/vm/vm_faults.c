/* SPDX-License-Identifier: MIT */
/*
 * Helper for tests/vm/test-faults.sh: puts the library in front of faults
 * the real kernel produces and prints what it returned, as an errno name.
 *
 *   vm_faults open-vfio BDF          vfn_vfio_open(), then close
 *   vm_faults open-ctrl BDF          vfn_nvme_ctrl_open(), then close
 *   vm_faults hold BDF FILE          open BDF, create FILE, sleep until killed
 *   vm_faults dma-exhaust BDF MAX    vfn_dma_alloc() 4 KiB until it fails (at
 *                                    most MAX times); vfn_iommu_map() once
 *                                    more; free all; allocate as many again
 *   vm_faults as UID CMD [ARGS...]   drop to user and group UID, exec CMD
 */
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <vfn/vfn.h>

static const char *err_name(long err)
{
	static const struct {
		int err;
		const char *name;
	} names[] = {
		{ 0, "0" },
		{ -EINVAL, "-EINVAL" },
		{ -ENODEV, "-ENODEV" },
		{ -ENOENT, "-ENOENT" },
		{ -EBUSY, "-EBUSY" },
		{ -EACCES, "-EACCES" },
		{ -EPERM, "-EPERM" },
		{ -ENOSPC, "-ENOSPC" },
		{ -ENOMEM, "-ENOMEM" },
		{ -EIO, "-EIO" },
		{ -ENXIO, "-ENXIO" },
	};
	static char other[24];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].err == err)
			return names[i].name;
	snprintf(other, sizeof(other), "%ld", err);
	return other;
}

static int open_vfio(const char *bdf)
{
	struct vfn_vfio_dev *dev = NULL;
	int ret = vfn_vfio_open(bdf, NULL, &dev);

	printf("%s\n", err_name(ret));
	vfn_vfio_close(dev);
	return 0;
}

static int open_ctrl(const char *bdf)
{
	struct vfn_nvme_ctrl *ctrl = NULL;
	int ret = vfn_nvme_ctrl_open(bdf, NULL, &ctrl);

	printf("%s\n", err_name(ret));
	if (!ret)
		vfn_nvme_ctrl_close(ctrl);
	return 0;
}

static int hold(const char *bdf, const char *ready)
{
	struct vfn_vfio_dev *dev;
	FILE *f;
	int ret = vfn_vfio_open(bdf, NULL, &dev);

	if (ret) {
		fprintf(stderr, "vm_faults: cannot hold %s: %s\n", bdf, err_name(ret));
		return 1;
	}
	f = fopen(ready, "w");
	if (!f || fclose(f)) {
		vfn_vfio_close(dev);
		return 1;
	}
	for (;;)
		pause();
}

/* Allocates 4 KiB buffers into @bufs until one fails (at most @max); returns how many. */
static long alloc_until_failure(struct vfn_iommu *iommu, void **bufs, long max, long *err)
{
	long n;

	*err = 0;
	for (n = 0; n < max; n++) {
		uint64_t iova;
		ssize_t ret = vfn_dma_alloc(iommu, 4096, &bufs[n], &iova);

		if (ret < 0) {
			*err = ret;
			break;
		}
	}
	return n;
}

static void free_all(struct vfn_iommu *iommu, void **bufs, long n)
{
	for (long i = 0; i < n; i++)
		vfn_dma_free(iommu, bufs[i], 4096);
}

static int dma_exhaust(const char *bdf, long max)
{
	struct vfn_vfio_dev *dev;
	struct vfn_iommu *iommu;
	long n, again, err, err2;
	void **bufs, *page;
	uint64_t iova;
	int ret = vfn_vfio_open(bdf, NULL, &dev);

	if (ret) {
		printf("open=%s\n", err_name(ret));
		return 1;
	}
	iommu = vfn_vfio_iommu(dev);
	bufs = calloc((size_t)max, sizeof(*bufs));
	page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!bufs || page == MAP_FAILED) {
		free(bufs);
		vfn_vfio_close(dev);
		return 1;
	}
	n = alloc_until_failure(iommu, bufs, max, &err);
	ret = vfn_iommu_map(iommu, page, 4096, &iova);
	if (!ret)
		vfn_iommu_unmap(iommu, page);
	free_all(iommu, bufs, n);
	again = alloc_until_failure(iommu, bufs, n, &err2);
	free_all(iommu, bufs, again);
	printf("allocated=%ld alloc=%s map=%s again=%ld\n", n, err_name(err), err_name(ret), again);
	munmap(page, 4096);
	free(bufs);
	vfn_vfio_close(dev);
	return 0;
}

static int run_as(const char *uid_str, char **argv)
{
	uid_t uid = (uid_t)strtoul(uid_str, NULL, 10);

	if (setgroups(0, NULL) || setgid(uid) || setuid(uid)) {
		perror("vm_faults: cannot drop privileges");
		return 1;
	}
	execvp(argv[0], argv);
	perror("vm_faults: exec");
	return 127;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "open-vfio"))
		return open_vfio(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "open-ctrl"))
		return open_ctrl(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "hold"))
		return hold(argv[2], argv[3]);
	if (argc == 4 && !strcmp(argv[1], "dma-exhaust") && strtol(argv[3], NULL, 10) > 0)
		return dma_exhaust(argv[2], strtol(argv[3], NULL, 10));
	if (argc >= 4 && !strcmp(argv[1], "as"))
		return run_as(argv[2], argv + 3);
	fprintf(stderr, "usage: vm_faults open-vfio|open-ctrl BDF | hold BDF FILE | dma-exhaust BDF MAX"
			" | as UID CMD...\n");
	return 2;
}
