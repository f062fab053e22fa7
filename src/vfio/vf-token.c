/* SPDX-License-Identifier: MIT */
/*
 * The SR-IOV VF token (include/vfn/sriov.h): a UUID shared by the user of a
 * PF bound to vfio-pci and the users of its VFs.  Set on the PF with
 * VFIO_DEVICE_FEATURE_PCI_VF_TOKEN, presented when a VF (or a PF whose VFs
 * are in use) is opened through its group ("BDF vf_token=UUID").
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include <linux/vfio.h>

#include <vfn/sriov.h>
#include <vfn/vfio.h>

#include "support/text.h"
#include "support/log.h"
#include "vfio-priv.h"

static pthread_mutex_t token_lock = PTHREAD_MUTEX_INITIALIZER;
static uint8_t token[16];
static bool token_set;

int vfn_vf_token_parse(const char *s, uint8_t uuid[16])
{
	uint8_t out[16];
	int n = 0;

	if (!s || !uuid || strlen(s) != 36)
		return -EINVAL;
	for (int i = 0; i < 36;) {
		int hi, lo;

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i++] != '-')
				return -EINVAL;
			continue;
		}
		hi = vfn_hex_digit(s[i]);
		lo = vfn_hex_digit(s[i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[n++] = (uint8_t)(hi << 4 | lo);
		i += 2;
	}
	memcpy(uuid, out, sizeof(out));
	return 0;
}

void vfn_vf_token_format(const uint8_t uuid[16], char out[37])
{
	int n = 0;

	for (int i = 0; i < 16; i++) {
		n += sprintf(out + n, "%02x", uuid[i]);
		if (i == 3 || i == 5 || i == 7 || i == 9)
			out[n++] = '-';
	}
	out[36] = '\0';
}

void vfn_vf_token_use(const uint8_t uuid[16])
{
	pthread_mutex_lock(&token_lock);
	token_set = uuid != NULL;
	if (uuid)
		memcpy(token, uuid, sizeof(token));
	pthread_mutex_unlock(&token_lock);
}

int vfio_vf_token_name(const char *bdf, char *buf, size_t len)
{
	char pf[VFN_PCI_BDF_LEN], uuid[37];
	bool use;

	pthread_mutex_lock(&token_lock);
	use = token_set;
	if (use)
		vfn_vf_token_format(token, uuid);
	pthread_mutex_unlock(&token_lock);
	/* Only a VF or an SR-IOV PF takes a token: vfio-pci refuses one elsewhere. */
	if (use && vfn_pci_sriov_physfn(bdf, pf) && vfn_pci_sriov_totalvfs(bdf) <= 0)
		use = false;
	if ((size_t)snprintf(buf, len, use ? "%s vf_token=%s" : "%s", bdf, uuid) >= len)
		return -ENAMETOOLONG;
	if (use)
		log_debug("%s: opening with the VF token", bdf);
	return 0;
}

int vfn_vfio_set_vf_token(struct vfn_vfio_dev *dev, const uint8_t uuid[16])
{
	/* struct vfio_device_feature, then the 16-byte UUID as its data */
	uint64_t buf[(sizeof(struct vfio_device_feature) + 16 + 7) / 8];
	struct vfio_device_feature *f = (struct vfio_device_feature *)buf;

	if (!dev || !uuid || dev->fd < 0)
		return -EINVAL;
	memset(buf, 0, sizeof(buf));
	f->argsz = (uint32_t)(sizeof(*f) + 16);
	f->flags = VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_PCI_VF_TOKEN;
	memcpy((uint8_t *)buf + sizeof(*f), uuid, 16);
	if (ioctl(dev->fd, VFIO_DEVICE_FEATURE, f) < 0) {
		int err = -errno;

		log_err("%s: VFIO_DEVICE_FEATURE_PCI_VF_TOKEN: errno %d (a PF on vfio-pci with enable_sriov=1 only)",
			dev->bdf, -err);
		return err;
	}
	return 0;
}
