#!/bin/sh
# AUTO falls back when the kernel refuses MSI-X (issue 14), on QEMU's real
# nvme function: the guest kernel runs with pci=nomsi, so VFIO reports the
# controller's 65 MSI-X vectors but VFIO_DEVICE_SET_IRQS refuses to switch
# MSI-X on (EINVAL); QEMU 7.2's nvme has no MSI, so AUTO lands on INTx and
# the I/O completes by interrupt on it.  Prints TAP.
. "$(dirname "$0")/lib.sh"

t_match "the guest kernel runs with pci=nomsi" 'pci=nomsi' "$(cat /proc/cmdline)"

# The CLI opens with AUTO too: at info level it says what it chose and why.
t_capture env VFN_LOG=info vfn id-ctrl "$VFN_BDF"
t_eq "vfn id-ctrl (AUTO interrupts): exit status" 0 "$T_RC"
t_match "... VFIO reports MSI-X" '65 MSI-X vectors' "$T_OUT"
t_match "... the kernel refused it" 'the kernel refused MSI-X \(VFIO_DEVICE_SET_IRQS: errno 22\): trying the next type' "$T_OUT"
t_match "... INTx chosen" 'no MSI-X: INTx interrupts' "$T_OUT"

# One boot, two processes: a test that fails leaves its controller open.
export VFN_TEST_AUTO=intx VFN_TEST_MSI=0
export VFN_TEST_FILTER=test_auto
t_run_cmocka auto test_vm_irq
export VFN_TEST_FILTER=test_intx
t_run_cmocka intx test_vm_irq

t_done
