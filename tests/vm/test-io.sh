#!/bin/sh
# Guest suite for the I/O path: the controller at $VFN_BDF bound to vfio-pci,
# namespace 1 on a raw image (VFN_TEST_IMG_SIZE bytes, VFN_TEST_LBA_SIZE-byte
# blocks).  Prints TAP.
. "$(dirname "$0")/lib.sh"

t_run_cmocka io test_vm_io

t_done
