#!/bin/sh
# Guest suite for interrupt modes: QEMU's controller with msix_qsize=2 (the
# admin vector and one I/O vector) bound to vfio-pci; 4 I/O queue pairs
# share the I/O vector (tests/vm/test_vm_irq.c).  Prints TAP.
. "$(dirname "$0")/lib.sh"

t_run_cmocka irq test_vm_irq

t_done
