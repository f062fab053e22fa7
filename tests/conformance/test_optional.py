# SPDX-License-Identifier: MIT
"""Optional features, checked only where the controller has them: namespace management, protection
information, the controller memory buffer (NVMe Base 1.4, 8.12, 8.3, 4.7)."""
import pytest

from vfn import spec


@pytest.mark.needs("ns_mgmt")
def test_allocated_ns_list_contains_active(dev):
    """5.15.2 (CNS 10h) / 8.12: with Namespace Management the allocated namespace list contains every
    active namespace."""
    allocated = spec.ns_list(dev.identify(0x10))
    assert set(dev.ns_list()) <= set(allocated)


@pytest.mark.needs("ns_mgmt")
def test_unallocated_capacity(dev):
    """5.15.2.2 (Figure 247): with Namespace Management, UNVMCAP <= TNVMCAP."""
    assert dev.id_ctrl.unvmcap <= dev.id_ctrl.tnvmcap


@pytest.mark.needs("pi")
def test_pi_settings_consistent(dev):
    """8.3 / Figure 249: a namespace formatted with protection (DPS type 1-3) uses a type DPC says is
    supported, and its format carries at least 8 metadata bytes."""
    for nsid in dev.ns_list():
        idn = dev.identify_ns(nsid)
        pit = idn.dps & 7
        if pit:
            assert idn.dpc & (1 << (pit - 1))
            assert idn.lbaf[idn.flbas & 0xF].ms >= 8


@pytest.mark.needs("cmb")
def test_cmb_size_nonzero(ctrl):
    """3.1.12 / 3.1.13: a controller with a CMB reports CMBSZ.SZ != 0 and CMBLOC.BIR a valid BAR."""
    if ctrl.cap.cmbs:
        # NVMe 1.4 (CAP.CMBS): CMBLOC and CMBSZ read 0 until CMBMSC.CRE (bit 0 of 50h) is set.
        ctrl.write_reg32(0x50, ctrl.reg32(0x50) | 1)
    cmbsz = ctrl.reg32(spec.REG_CMBSZ)
    assert cmbsz >> 12 != 0
    assert ctrl.reg32(spec.REG_CMBLOC) & 7 <= 5
