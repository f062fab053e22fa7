#!/bin/sh
# Guest suite for interrupt modes: QEMU's controller with msix_qsize=2 (the
# admin vector and one I/O vector) bound to vfio-pci; 4 I/O queue pairs
# share the I/O vector (tests/vm/test_vm_irq.c).  Prints TAP.
. "$(dirname "$0")/lib.sh"

t_run_cmocka irq test_vm_irq

# vfn reset: controller and function-level resets bring QEMU's controller
# back (id-ctrl answers after each); QEMU 7.2 has no NSSR (CAP.NSSRS 0).
t_ok "reset --controller" vfn reset "$VFN_BDF" --controller
t_ok "id-ctrl after reset --controller" vfn id-ctrl "$VFN_BDF"
t_ok "reset --function" vfn reset "$VFN_BDF" --function
t_ok "id-ctrl after reset --function" vfn id-ctrl "$VFN_BDF"
t_err "reset --subsystem refused (CAP.NSSRS 0)" 1 'NVM subsystem reset not supported \(CAP.NSSRS is 0\)' \
	vfn reset "$VFN_BDF" --subsystem
t_err "reset with two kinds" 2 'one of --controller, --function, --subsystem' \
	vfn reset "$VFN_BDF" --controller --subsystem
# PCI hot reset: the guest's controller sits on the root bus, which has no
# bus or slot reset: refused in one line before anything stops, and the
# controller still answers.
t_err "reset --bus refused (root bus: no bus or slot reset)" 1 \
	'PCI hot reset not allowed here \(VFIO offers no bus or slot reset for this function\)' \
	vfn reset "$VFN_BDF" --bus
t_ok "id-ctrl after the refused reset --bus" vfn id-ctrl "$VFN_BDF"
t_ok "reset --controller after the refused reset --bus" vfn reset "$VFN_BDF" --controller

t_done
