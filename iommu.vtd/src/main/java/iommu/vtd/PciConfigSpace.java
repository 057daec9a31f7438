package iommu.vtd;

import java.util.Optional;

/**
 * What a bridge's PCI configuration space (the sysfs {@code config} file)
 * says about its kind, read as Linux reads it:
 * <ul>
 * <li>Header Type (offset 0x0e, bits 6:0) must be 1, a PCI-to-PCI bridge;</li>
 * <li>{@code pci_find_capability(dev, PCI_CAP_ID_EXP)}: when Status (0x06)
 * has Capabilities List (bit 4), the list starts at the Capabilities Pointer
 * (0x34) and is walked as {@code __pci_find_next_cap_ttl} does: at most 48
 * entries, stopping at a pointer below 0x40 or an id 0xff, each pointer with
 * its two low bits cleared; the PCI Express capability has id 0x10;</li>
 * <li>{@code pci_pcie_type}: bits 7:4 of the PCI Express Capabilities
 * register (capability + 2): 0x7 {@code PCI_EXP_TYPE_PCI_BRIDGE} is a
 * PCIe-to-PCI/PCI-X bridge ({@link PciInventory.BridgeKind#PCIE_TO_PCI});
 * 0x8 {@code PCI_EXP_TYPE_PCIE_BRIDGE}, a PCI/PCI-X-to-PCIe bridge, which
 * {@code pci_for_each_dma_alias} aliases to the bridge's own id as it does a
 * conventional bridge ({@link PciInventory.BridgeKind#PCI}); any other type
 * (0x4 root port, 0x5 upstream, 0x6 downstream port) aliases nothing
 * ({@link PciInventory.BridgeKind#PCIE_PORT});</li>
 * <li>no PCI Express capability ({@code !pci_is_pcie}): a conventional PCI
 * bridge ({@link PciInventory.BridgeKind#PCI}).</li>
 * </ul>
 */
final class PciConfigSpace {

    static final int HEADER_LENGTH = 64;
    static final int CAP_ID_EXP = 0x10;
    static final int TYPE_PCI_BRIDGE = 0x7;
    static final int TYPE_PCIE_BRIDGE = 0x8;
    private static final int CAP_TTL = 48;

    private PciConfigSpace() {
    }

    /** Why the bytes cannot be read as a bridge's config space, or null. */
    static String problem(byte[] config) {
        if (config.length < HEADER_LENGTH) {
            return config.length + " bytes: expected at least the 64-byte header of PCI configuration space";
        }
        int headerType = config[0x0e] & 0x7f;
        if (headerType != 1) {
            return String.format("header type %d: expected 1, a PCI-to-PCI bridge (it has secondary_bus_number)",
                    headerType);
        }
        return null;
    }

    /**
     * The bridge's kind, or empty when the capability list runs beyond the
     * bytes given (sysfs shows only the 64-byte header to a reader that is not
     * root). {@link #problem} must be null.
     */
    static Optional<PciInventory.BridgeKind> bridgeKind(byte[] config) {
        int status = u16(config, 0x06);
        if ((status & 0x10) == 0) {
            return Optional.of(PciInventory.BridgeKind.PCI); // no capability list: no PCIe capability
        }
        int pos = config[0x34] & 0xff;
        for (int ttl = CAP_TTL; ttl > 0; ttl--) {
            if (pos < 0x40) {
                break;
            }
            pos &= ~3;
            if (pos + 4 > config.length) {
                return Optional.empty();
            }
            int id = config[pos] & 0xff;
            if (id == 0xff) {
                break;
            }
            if (id == CAP_ID_EXP) {
                int type = u16(config, pos + 2) >>> 4 & 0xf;
                return Optional.of(switch (type) {
                    case TYPE_PCI_BRIDGE -> PciInventory.BridgeKind.PCIE_TO_PCI;
                    case TYPE_PCIE_BRIDGE -> PciInventory.BridgeKind.PCI;
                    default -> PciInventory.BridgeKind.PCIE_PORT;
                });
            }
            pos = config[pos + 1] & 0xff;
        }
        return Optional.of(PciInventory.BridgeKind.PCI);
    }

    static final int CFG_SPACE_SIZE = 256;
    static final int CFG_SPACE_EXP_SIZE = 4096;
    static final int EXT_CAP_ID_ATS = 0x0f;

    /**
     * The Invalidate Queue Depth of the function's ATS capability (bits 4:0
     * of the ATS Capability register at capability + 4,
     * {@code PCI_ATS_CAP_QDEP}; 0 means 32), or empty when it has none.
     * The extended capabilities are walked as Linux's
     * {@code pci_find_next_ext_capability} walks them: from offset 0x100, at
     * most (4096 - 256) / 8 headers, each with the id in bits 15:0 and the
     * next offset in bits 31:20 with its two low bits cleared
     * ({@code PCI_EXT_CAP_NEXT}), ending at a header of 0 or an offset below
     * 0x100. A file of 256 bytes or fewer has no extended space (a
     * conventional PCI function, or a copy made without root), nor one that
     * ends inside the list.
     */
    static java.util.OptionalInt atsQueueDepth(byte[] config) {
        int pos = CFG_SPACE_SIZE;
        if (config.length < pos + 4) {
            return java.util.OptionalInt.empty();
        }
        int header = u32(config, pos);
        if (header == 0) {
            return java.util.OptionalInt.empty();
        }
        for (int ttl = (CFG_SPACE_EXP_SIZE - CFG_SPACE_SIZE) / 8; ttl > 0; ttl--) {
            if ((header & 0xffff) == EXT_CAP_ID_ATS) {
                return pos + 8 <= config.length ? java.util.OptionalInt.of(u16(config, pos + 4) & 0x1f)
                        : java.util.OptionalInt.empty();
            }
            pos = (header >>> 20) & 0xffc;
            if (pos < CFG_SPACE_SIZE || pos + 4 > config.length) {
                break;
            }
            header = u32(config, pos);
        }
        return java.util.OptionalInt.empty();
    }

    private static int u32(byte[] b, int offset) {
        return u16(b, offset) | u16(b, offset + 2) << 16;
    }

    private static int u16(byte[] b, int offset) {
        return (b[offset] & 0xff) | (b[offset + 1] & 0xff) << 8;
    }
}
