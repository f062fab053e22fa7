#!/bin/sh
# Guest suite: examples/irq_loop and examples/aer against QEMU's controller
# at $VFN_BDF through vfio-pci (real MSI-X through the IOMMU; a real
# temperature event); examples/cmb and examples/cmb.py against its CMB of
# $VFN_TEST_CMB_MB MiB (cmb_size_mb); then the Python twins (cmb.py,
# irq_loop.py, aer.py, raw_queue.py) with /vfn/bin/python3 and
# /vfn/bin/pybundle-examples.zip (scripts/pybundle.py).  Prints TAP.
. "$(dirname "$0")/lib.sh"

t_capture irq_loop "$VFN_BDF"
t_diag "$T_OUT"
if [ "$T_RC" -eq 0 ] && printf '%s\n' "$T_OUT" | grep -Eq '^32 reads completed via interrupts \([1-9][0-9]* wakeups\)$' &&
	printf '%s\n' "$T_OUT" | grep -q '^data verified: 32 blocks of'; then
	t_result 0 "irq_loop: 32 writes + 32 reads completed through the MSI-X eventfd, data verified"
else
	t_result 1 "irq_loop: 32 writes + 32 reads completed through the MSI-X eventfd, data verified"
fi

t_capture aer "$VFN_BDF"
t_diag "$T_OUT"
if [ "$T_RC" -eq 0 ] && printf '%s\n' "$T_OUT" |
	grep -q '^event: dw0 0x00020101 type 1 (SMART / Health Status) info 0x01 (Temperature Threshold) log page 0x02$'; then
	t_result 0 "aer: the temperature threshold event decoded (DW0 00020101h)"
else
	t_result 1 "aer: the temperature threshold event decoded (DW0 00020101h)"
fi

# examples/cmb: the CMB as QEMU was configured (BAR2, offset 0, the 1.4
# scheme), enabled with a base address QEMU accepted, the SQ inside
# [CBA, CBA + size), 8 blocks of 512 bytes written from the CMB and read
# back equal into the CMB and into host memory.
MB=${VFN_TEST_CMB_MB:-}
if [ -n "$MB" ]; then
	t_capture cmb "$VFN_BDF"
	t_diag "$T_OUT"
	t_eq "cmb: exit status" 0 "$T_RC"
	t_match "cmb: CMB of cmb_size_mb=$MB MiB in BAR2" \
		"^CMB: $((MB * 1048576)) bytes \($MB MiB\) in BAR2 at offset 0x0, NVMe 1.4 CMBMSC scheme\$" "$T_OUT"
	t_match "cmb: SQs, PRP lists, read and write data may be in the CMB, CQs not" \
		'^CMB may hold: SQs 1, CQs 0, PRP lists 1, read data 1, write data 1$' "$T_OUT"
	t_match "cmb: CMBMSC CRE 1, CMSE 1, CBA non-zero, CBAI 0" \
		'^enabled: CMBMSC 0x[0-9a-f]+3 \(CRE 1, CMSE 1, CBA 0x[0-9a-f]*[1-9a-f][0-9a-f]*\), CMBSTS.CBAI 0$' "$T_OUT"
	cba=$(printf '%s\n' "$T_OUT" | sed -n 's/.*CBA \(0x[0-9a-f]*\)).*/\1/p')
	sq=$(printf '%s\n' "$T_OUT" | sed -n 's/^queue pair [0-9]*: SQ of 16 entries in the CMB at controller address \(0x[0-9a-f]*\)$/\1/p')
	if [ -n "$cba" ] && [ -n "$sq" ] && [ $((sq)) -ge $((cba)) ] && [ $((sq)) -lt $((cba + MB * 1048576)) ]; then
		t_result 0 "cmb: the SQ ($sq) lies in the CMB [$cba, +$MB MiB)"
	else
		t_result 1 "cmb: the SQ (${sq:-?}) lies in the CMB [${cba:-?}, +$MB MiB)"
	fi
	t_match "cmb: written from the CMB, read back into the CMB equal" \
		'^wrote LBA 0-7 from the CMB, read them back into the CMB: 4096 bytes equal$' "$T_OUT"
	t_match "cmb: read back into host memory equal" \
		'^read LBA 0-7 into host memory: 4096 bytes equal \(first block starts "LBA 0"\)$' "$T_OUT"
fi

# The Python twins, with the interpreter and the zip vm.sh was given.
if [ -x /vfn/bin/python3 ] && [ -f /vfn/bin/pybundle-examples.zip ]; then
	mkdir -p /tmp/py && unzip -q -o /vfn/bin/pybundle-examples.zip -d /tmp/py
	export PYTHONHOME=/tmp/py/usr PYTHONDONTWRITEBYTECODE=1 VFN_LIB=/vfn/lib/libvfn.so.0
	export LD_LIBRARY_PATH=/vfn/lib:/tmp/py/libs
	if [ -n "$MB" ]; then
		t_capture python3 /tmp/py/examples/cmb.py "$VFN_BDF"
		t_diag "$T_OUT"
		t_eq "cmb.py: exit status" 0 "$T_RC"
		t_match "cmb.py: CMB of cmb_size_mb=$MB MiB in BAR2" \
			"^CMB: $((MB * 1048576)) bytes \($MB MiB\) in BAR2 at offset 0x0, NVMe 1.4 CMBMSC scheme\$" "$T_OUT"
		t_match "cmb.py: CMBMSC CRE 1, CMSE 1, CBAI 0" '^enabled: CMBMSC CRE 1, CMSE 1, CBA 0x[0-9a-f]+, CMBSTS.CBAI 0$' "$T_OUT"
		cba=$(printf '%s\n' "$T_OUT" | sed -n 's/.*CBA \(0x[0-9a-f]*\), CMBSTS.*/\1/p')
		sq=$(printf '%s\n' "$T_OUT" | sed -n 's/^queue pair [0-9]*: SQ of 16 entries in the CMB at controller address \(0x[0-9a-f]*\)$/\1/p')
		if [ -n "$cba" ] && [ -n "$sq" ] && [ $((sq)) -ge $((cba)) ] && [ $((sq)) -lt $((cba + MB * 1048576)) ]; then
			t_result 0 "cmb.py: the SQ ($sq) lies in the CMB [$cba, +$MB MiB)"
		else
			t_result 1 "cmb.py: the SQ (${sq:-?}) lies in the CMB [${cba:-?}, +$MB MiB)"
		fi
		t_match "cmb.py: written from a CmbBuffer, read back into one equal" \
			'^wrote LBA 8-15 from the CMB, read them back into the CMB: 4096 bytes equal$' "$T_OUT"
		t_match "cmb.py: read back into host memory equal" \
			"^read LBA 8-15 into host memory: 4096 bytes equal \(first block starts b'py LBA 8'\)\$" "$T_OUT"
	fi
	# The other twins, as python/tests/test_examples.py checks them on sim:, here on QEMU.
	t_capture python3 /tmp/py/examples/irq_loop.py "$VFN_BDF"
	t_diag "$T_OUT"
	t_eq "irq_loop.py: exit status" 0 "$T_RC"
	t_match "irq_loop.py: 16 writes through the MSI-X eventfd" \
		'^16 writes completed via interrupts \([1-9][0-9]* wakeups\)$' "$T_OUT"
	t_match "irq_loop.py: 16 reads through the MSI-X eventfd" \
		'^16 reads completed via interrupts \([1-9][0-9]* wakeups\)$' "$T_OUT"
	t_match "irq_loop.py: data verified" '^data verified: 16 blocks of 512 bytes$' "$T_OUT"
	t_capture python3 /tmp/py/examples/aer.py "$VFN_BDF"
	t_diag "$T_OUT"
	t_eq "aer.py: exit status" 0 "$T_RC"
	t_match "aer.py: the temperature threshold event decoded (DW0 00020101h)" \
		'^event: dw0 0x00020101 type 1 \(SMART / Health Status\) info 0x01 \(Temperature Threshold\) log page 0x02$' "$T_OUT"
	t_match "aer.py: its log page read" 'get log page 0x02: read, event cleared' "$T_OUT"
	t_capture python3 /tmp/py/examples/raw_queue.py "$VFN_BDF"
	t_diag "$T_OUT"
	t_eq "raw_queue.py: exit status" 0 "$T_RC"
	t_eq "raw_queue.py: 6 successful completions" 6 "$(printf '%s\n' "$T_OUT" | grep -c 'Successful Completion')"
	t_match "raw_queue.py: the second batch wrapped the 4-entry ring" 'cid 0x0202: Successful Completion, sq head 2' "$T_OUT"
	t_match "raw_queue.py: the data read back" "data: b'raw!raw!'" "$T_OUT"
	t_match "raw_queue.py: an unknown opcode's status" 'Invalid Command Opcode \(SCT 0, SC 0x1, DNR 1\)' "$T_OUT"
else
	t_skip "the Python examples" "no /vfn/bin/python3 and pybundle-examples.zip (a sanitized build, or no /usr/bin/python3 on the host)"
fi
t_done
