package iommu.vtd;

import java.util.List;
import java.util.Optional;

import iommu.api.DomainId;
import iommu.api.GuestId;
import iommu.api.PciAddress;
import iommu.api.spi.DeviceContext;

/** One-unit platforms with chosen CAP/ECAP values, for the unit-model tests. */
final class ModelFixtures {

    private ModelFixtures() {
    }

    /** A client PCH unit (real): ND 2, SAGAW 4-level, MGAW 39, FRO 0x400, PSI, NFR 1, MAMV 18, SLLPS 2M+1G, DRD, DWD. */
    static final String CLIENT_CAP = "d2008c40660462";
    /** The same with caching mode (CAP bit 7), as a virtual IOMMU reports it. */
    static final String CLIENT_CAP_CM = "d2008c406604e2";
    /** A Xeon Scalable unit (real): ND 6, MGAW 48, FRO 0x100, PSI, NFR 8, MAMV 18. */
    static final String SERVER_CAP = "8d2078c106f0466";
    /** An Ivy Bridge graphics unit (real): SAGAW 3-level only, MGAW 39, no PSI, MAMV 0, NFR 1, FRO 0x200. */
    static final String IVB_CAP = "c0000020e60262";
    /** QI, IR, EIM, PT, SC; IRO 0x500 (real). */
    static final String QI_ECAP = "f050da";
    /** The same without QI: register-based invalidation only. */
    static final String REGISTER_ECAP = "f050d8";
    /** QI_ECAP with DT (bit 2): device-TLBs. */
    static final String ATS_ECAP = "f050de";

    static final PciAddress GPU = PciAddress.parse("0000:00:02.0");
    static final PciAddress USB = PciAddress.parse("0000:00:14.0");
    static final PciAddress VF1 = PciAddress.parse("0000:01:10.0");
    static final PciAddress VF2 = PciAddress.parse("0000:01:10.1");
    static final PciAddress VF3 = PciAddress.parse("0000:01:10.2");
    static final GuestId GUEST_1 = GuestId.guest(1);
    static final GuestId GUEST_2 = GuestId.guest(2);
    static final GuestId GUEST_3 = GuestId.guest(3);

    static List<String> platform(String cap, String ecap) {
        return List.of(
                "iommu-platform 1",
                "unit dmar0 base=0xfed91000 cap=" + cap + " ecap=" + ecap + " include-pci-all",
                "endpoint 0000:00:02.0",
                "endpoint 0000:00:14.0",
                "bridge   0000:00:1c.0 01-01",
                "sriov    0000:01:00.0 totalvfs=64 numvfs=8 offset=128 stride=1");
    }

    /** The one unit (INCLUDE_PCI_ALL) of a platform with these CAP/ECAP values. */
    static VtdUnit unit(String cap, String ecap) {
        Platform platform = PlatformFileParser.parse("model.txt", platform(cap, ecap));
        UnitRegistry registry = new UnitRegistry(platform.inventory(), UnitPublisher.NONE);
        registry.addAll(platform.units(), "test");
        return registry.unit("dmar0").orElseThrow();
    }

    /**
     * The unit of {@link #platform} with the SR-IOV NIC's ATS capability and
     * an ATSR naming its root port 00:1c.0: its PF and VFs use ATS when the
     * ECAP has DT (and QI).
     */
    static VtdUnit atsUnit(String cap, String ecap) {
        List<String> lines = new java.util.ArrayList<>(platform(cap, ecap));
        lines.set(5, lines.get(5) + " ats");
        lines.add("atsr 0000:00:1c.0");
        Platform platform = PlatformFileParser.parse("model-ats.txt", lines);
        UnitRegistry registry = new UnitRegistry(PciInventory.empty(), UnitPublisher.NONE);
        registry.admit(platform, "test", false, false);
        return registry.unit("dmar0").orElseThrow();
    }

    /** The same unit with its VER register reading {@code version}. */
    static VtdUnit unit(String cap, String ecap, int version) {
        Platform platform = PlatformFileParser.parse("model.txt", platform(cap, ecap));
        VtdUnit[] self = new VtdUnit[1];
        UnitDirectory directory = new UnitDirectory() {
            @Override
            public PciInventory inventory() {
                return platform.inventory();
            }

            @Override
            public Optional<VtdUnit> bestClaimant(PciAddress device) {
                return Optional.ofNullable(self[0]);
            }
        };
        self[0] = new VtdUnit(platform.units().get(0), "test", directory, version);
        return self[0];
    }

    static DeviceContext ctx(int did, GuestId guest) {
        return new DeviceContext(DomainId.of(did), guest);
    }

    static DomainId did(int value) {
        return DomainId.of(value);
    }
}
