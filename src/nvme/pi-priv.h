/* SPDX-License-Identifier: MIT */
/* The PI geometry of a namespace, decoded once for src/nvme and src/dev. */
#ifndef VFN_SRC_NVME_PI_PRIV_H
#define VFN_SRC_NVME_PI_PRIV_H

#include <stdbool.h>
#include <stdint.h>

/*
 * From Identify Namespace @id (DPS) and, when not NULL, the NVM Command Set
 * Identify Namespace @nvm (ELBAF of LBA format @idx): the PI type, whether
 * the tuple is first, and the guard format (0, the 16-bit guard, without
 * @nvm).
 */
void vfn_pi_geometry(const uint8_t *id, const uint8_t *nvm, unsigned int idx, uint8_t *pi_type, bool *pi_first,
		     uint8_t *pif);

#endif
