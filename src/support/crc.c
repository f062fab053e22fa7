// SPDX-License-Identifier: MIT
/*
 * The guard CRCs of end-to-end protection, slice-by-8: eight 256-entry
 * tables per CRC, where table k maps a byte to its CRC followed by k zero
 * bytes, so that eight input bytes fold in with eight lookups and no
 * dependency between them.  The tables are built once, at load time.
 */
#include <string.h>

#include <vfn/pi.h>

#define CRC16_T10DIF_POLY 0x8bb7
#define CRC64_NVME_POLY_REFLECTED 0x9a6c9329ac4bc9b5ULL /* bit-reverse of 0xad93d23594c93659 */

static uint16_t crc16_tab[8][256];
static uint64_t crc64_tab[8][256];

static void crc16_tables_init(void)
{
	for (unsigned int i = 0; i < 256; i++) {
		uint16_t crc = (uint16_t)(i << 8);

		for (int b = 0; b < 8; b++)
			crc = (uint16_t)((crc & 0x8000) ? (crc << 1) ^ CRC16_T10DIF_POLY : crc << 1);
		crc16_tab[0][i] = crc;
	}
	for (unsigned int i = 0; i < 256; i++)
		for (int k = 1; k < 8; k++) {
			uint16_t prev = crc16_tab[k - 1][i];

			crc16_tab[k][i] = (uint16_t)((prev << 8) ^ crc16_tab[0][prev >> 8]);
		}
}

static void crc64_tables_init(void)
{
	for (unsigned int i = 0; i < 256; i++) {
		uint64_t crc = i;

		for (int b = 0; b < 8; b++)
			crc = (crc & 1) ? (crc >> 1) ^ CRC64_NVME_POLY_REFLECTED : crc >> 1;
		crc64_tab[0][i] = crc;
	}
	for (unsigned int i = 0; i < 256; i++)
		for (int k = 1; k < 8; k++) {
			uint64_t prev = crc64_tab[k - 1][i];

			crc64_tab[k][i] = (prev >> 8) ^ crc64_tab[0][prev & 0xff];
		}
}

/* Before main() and before any thread: no locking needed on the hot path. */
__attribute__((constructor)) static void crc_tables_init(void)
{
	crc16_tables_init();
	crc64_tables_init();
}

uint16_t vfn_crc16_t10dif(uint16_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len >= 8) {
		crc = crc16_tab[7][(p[0] ^ (crc >> 8)) & 0xff] ^ crc16_tab[6][(p[1] ^ crc) & 0xff] ^
		      crc16_tab[5][p[2]] ^ crc16_tab[4][p[3]] ^ crc16_tab[3][p[4]] ^ crc16_tab[2][p[5]] ^
		      crc16_tab[1][p[6]] ^ crc16_tab[0][p[7]];
		p += 8;
		len -= 8;
	}
	while (len--)
		crc = (uint16_t)((crc << 8) ^ crc16_tab[0][((crc >> 8) ^ *p++) & 0xff]);
	return crc;
}

uint64_t vfn_crc64_nvme(uint64_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	crc = ~crc;
	while (len >= 8) {
		uint64_t v;

		memcpy(&v, p, 8);
		crc ^= le64toh(v);
		crc = crc64_tab[7][crc & 0xff] ^ crc64_tab[6][(crc >> 8) & 0xff] ^ crc64_tab[5][(crc >> 16) & 0xff] ^
		      crc64_tab[4][(crc >> 24) & 0xff] ^ crc64_tab[3][(crc >> 32) & 0xff] ^
		      crc64_tab[2][(crc >> 40) & 0xff] ^ crc64_tab[1][(crc >> 48) & 0xff] ^ crc64_tab[0][crc >> 56];
		p += 8;
		len -= 8;
	}
	while (len--)
		crc = (crc >> 8) ^ crc64_tab[0][(crc ^ *p++) & 0xff];
	return ~crc;
}
