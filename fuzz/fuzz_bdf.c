/* SPDX-License-Identifier: MIT */
/*
 * vfn_pci_parse_bdf() on arbitrary strings: it never reads past the string,
 * writes nothing on failure, and on success writes the canonical form of
 * what it was given, which parses again to itself.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <vfn/pci.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_canonical(const char *in, const char *out)
{
	char again[VFN_PCI_BDF_LEN];

	assert(strlen(out) == VFN_PCI_BDF_LEN - 1);
	for (size_t i = 0; i < VFN_PCI_BDF_LEN - 1; i++) {
		char c = out[i];

		if (i == 4 || i == 7)
			assert(c == ':');
		else if (i == 10)
			assert(c == '.');
		else
			assert((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
	}
	/* The input was the same address, perhaps in upper case or without the domain. */
	if (strlen(in) == VFN_PCI_BDF_LEN - 1)
		assert(!strcasecmp(in, out));
	else
		assert(!strncmp(out, "0000:", 5) && !strcasecmp(in, out + 5));
	assert(vfn_pci_parse_bdf(out, again) == 0);
	assert(!strcmp(again, out));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[VFN_PCI_BDF_LEN + 1];
	char *in = malloc(size + 1); /* exactly the string: ASan sees any overread */

	if (!in)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	memset(out, 0x5a, sizeof(out));
	if (vfn_pci_parse_bdf(in, out) == 0) {
		check_canonical(in, out);
	} else {
		for (size_t i = 0; i < sizeof(out); i++)
			assert(out[i] == 0x5a);
	}
	assert(out[VFN_PCI_BDF_LEN] == 0x5a);
	free(in);
	return 0;
}
