#!/bin/sh
# Guest suite for the kernel shim: the controller bound to the kernel nvme
# driver (/dev/nvme0, /dev/ng0n1, /dev/nvme0n1), namespace 1 on a raw image
# (VFN_TEST_IMG_SIZE bytes, VFN_TEST_LBA_SIZE-byte blocks), serial
# VFN_TEST_SERIAL.  Prints TAP.
. "$(dirname "$0")/lib.sh"

for n in /dev/nvme0 /dev/ng0n1 /dev/nvme0n1; do
	t_ok "$n exists" test -e "$n"
done
t_run_cmocka kernel test_vm_kernel

t_done
