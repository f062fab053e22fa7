/* SPDX-License-Identifier: MIT */
/* Reading typed values off a fuzzer's input; past the end reads as zeros. */
#ifndef VFN_FUZZ_INPUT_H
#define VFN_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>

struct input {
	const uint8_t *p;
	size_t left;
};

static inline uint64_t in_bytes(struct input *in, unsigned int n)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < n; i++) {
		uint8_t b = 0;

		if (in->left) {
			b = *in->p++;
			in->left--;
		}
		v |= (uint64_t)b << (8 * i);
	}
	return v;
}

static inline uint8_t in_u8(struct input *in)
{
	return (uint8_t)in_bytes(in, 1);
}

static inline uint16_t in_u16(struct input *in)
{
	return (uint16_t)in_bytes(in, 2);
}

static inline uint32_t in_u32(struct input *in)
{
	return (uint32_t)in_bytes(in, 4);
}

static inline uint64_t in_u64(struct input *in)
{
	return in_bytes(in, 8);
}

#endif
