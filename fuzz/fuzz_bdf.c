/* SPDX-License-Identifier: MIT */
/*
 * vfn_pci_parse_bdf() on arbitrary strings, against a model of the grammar
 * in include/vfn/pci.h: "[D{4,8}:]BB:DD.F" in hex of either case, device <=
 * 0x1f, function <= 7.  It accepts exactly what the model accepts; it then
 * writes what the model derives from the text (lower case, the domain's
 * leading zeros beyond 4 digits dropped, "0000:" when there is none), which
 * parses again to itself; it never reads past the string, writes nothing on
 * failure and nothing past VFN_PCI_BDF_LEN bytes.
 */
#include <assert.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <vfn/pci.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool all_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

static int hex_value(char c)
{
	return isdigit((unsigned char)c) ? c - '0' : tolower((unsigned char)c) - 'a' + 10;
}

/* Whether @t (7 characters) is "BB:DD.F" with device <= 0x1f and function <= 7. */
static bool model_bus_dev_fn(const char *t)
{
	if (!all_hex(t, 2) || t[2] != ':' || !all_hex(t + 3, 2) || t[5] != '.' || !all_hex(t + 6, 1))
		return false;
	return hex_value(t[3]) <= 1 && hex_value(t[6]) <= 7;
}

/* The canonical form of @in (into @want, 64 bytes), or false if it is not an address. */
static bool model(const char *in, char *want)
{
	size_t len = strlen(in), ndom = len > 8 ? len - 8 : 0;
	const char *dom = in;

	if (len != 7 && (ndom < 4 || ndom > 8 || !all_hex(in, ndom) || in[ndom] != ':'))
		return false;
	if (!model_bus_dev_fn(in + len - 7))
		return false;
	if (len == 7) {
		dom = "0000";
		ndom = 4;
	}
	for (; ndom > 4 && *dom == '0'; ndom--)
		dom++;
	memcpy(want, dom, ndom);
	want[ndom] = ':';
	memcpy(want + ndom + 1, in + len - 7, 8);
	for (char *p = want; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[VFN_PCI_BDF_LEN + 1], again[VFN_PCI_BDF_LEN], want[64];
	char *in = malloc(size + 1); /* exactly the string: ASan sees any overread */
	bool valid;

	if (!in)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	valid = model(in, want);
	memset(out, 0x5a, sizeof(out));
	if (vfn_pci_parse_bdf(in, out) == 0) {
		assert(valid);
		assert(!strcmp(out, want));
		assert(vfn_pci_parse_bdf(out, again) == 0);
		assert(!strcmp(again, out));
	} else {
		assert(!valid);
		for (size_t i = 0; i < sizeof(out); i++)
			assert(out[i] == 0x5a);
	}
	assert(out[VFN_PCI_BDF_LEN] == 0x5a);
	free(in);
	return 0;
}
