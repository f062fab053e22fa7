/* SPDX-License-Identifier: MIT */
/*
 * identify: the smallest useful vfn program.
 *
 * Opens one NVMe controller through VFIO, prints what it says about itself,
 * lists its active namespaces with their size, and closes it.
 *
 * The controller must be bound to vfio-pci first, e.g. `vfn bind 0000:01:00.0`.
 * Usage: identify 0000:01:00.0
 */
#include <stdio.h>
#include <string.h>

#include <vfn/nvme.h>

int main(int argc, char **argv)
{
	const struct vfn_nvme_ctrl_info *info;
	struct vfn_nvme_ctrl *ctrl;
	uint32_t nsids[64];
	int ret, n;

	if (argc != 2) {
		fprintf(stderr, "usage: %s BDF   (e.g. %s 0000:01:00.0)\n", argv[0], argv[0]);
		return 2;
	}

	/*
	 * 1. Open the controller.  This maps its registers, resets it, sets up
	 *    the admin queue and enables it, then sends Identify Controller.
	 *    Like every vfn function it returns 0 or a negative errno.
	 */
	ret = vfn_nvme_ctrl_open(argv[1], NULL, &ctrl);
	if (ret) {
		fprintf(stderr, "cannot open %s: %s (try `vfn id-ctrl %s` for a hint)\n", argv[1], strerror(-ret),
			argv[1]);
		return 1;
	}

	/* 2. What Identify Controller said is kept with the controller. */
	info = vfn_nvme_ctrl_get_info(ctrl);
	printf("model:    %s\n", info->mn);
	printf("serial:   %s\n", info->sn);
	printf("firmware: %s\n", info->fr);

	/* 3. Ask for the active namespace ids (those above 0, at most 64 here). */
	n = vfn_nvme_ns_list_active(ctrl, 0, nsids, 64);
	if (n < 0) {
		fprintf(stderr, "cannot list namespaces: %s\n", strerror(-n));
		vfn_nvme_ctrl_close(ctrl);
		return 1;
	}

	/* 4. Identify each namespace: its size in logical blocks and block size. */
	for (int i = 0; i < n; i++) {
		struct vfn_nvme_ns_info ns;

		ret = vfn_nvme_ns_get_info(ctrl, nsids[i], &ns);
		if (ret) {
			fprintf(stderr, "namespace %u: %s\n", nsids[i], strerror(-ret));
			continue;
		}
		printf("namespace %u: %llu blocks of %u bytes (%llu MiB)\n", ns.nsid, (unsigned long long)ns.nsze,
		       ns.lba_size, (unsigned long long)(ns.nsze * ns.lba_size >> 20));
	}

	/* 5. Close: shuts the controller down cleanly and frees everything. */
	vfn_nvme_ctrl_close(ctrl);
	return 0;
}
