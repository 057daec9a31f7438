package iommu.vtd;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

import iommu.api.PciAddress;

/**
 * The PCI functions present on the platform: endpoints, bridges (with the bus
 * range behind them) and SR-IOV physical functions with their enabled virtual
 * functions. Immutable; built through {@link Builder}, which refuses
 * duplicates and VFs that would lie beyond bus 255.
 */
public final class PciInventory {

    /** What a PCI function is. */
    public enum Kind {
        ENDPOINT, BRIDGE, PHYSICAL_FUNCTION, VIRTUAL_FUNCTION
    }

    /** One function of the inventory. */
    public record Function(PciAddress address, Kind kind, String origin, PciAddress physicalFunction, int vfIndex) {
        public String describe() {
            String what = switch (kind) {
                case ENDPOINT -> "endpoint " + address;
                case BRIDGE -> "bridge " + address;
                case PHYSICAL_FUNCTION -> "SR-IOV PF " + address;
                case VIRTUAL_FUNCTION -> "VF " + vfIndex + " of PF " + physicalFunction + " (" + address + ")";
            };
            return origin == null || origin.isEmpty() ? what : what + " (" + origin + ")";
        }
    }

    /**
     * What a bridge does to the requester ids of the DMA it forwards, as
     * Linux's {@code pci_for_each_dma_alias} (drivers/pci/search.c) tells the
     * cases apart; see {@link DmaAliases}.
     */
    public enum BridgeKind {
        /** A PCIe root port or switch port (PCI_EXP_TYPE_ROOT_PORT, _UPSTREAM, _DOWNSTREAM): no aliasing. */
        PCIE_PORT("pcie-port"),
        /** A PCIe-to-PCI/PCI-X bridge (PCI_EXP_TYPE_PCI_BRIDGE): DMA from behind it is seen as (secondary bus, 00.0). */
        PCIE_TO_PCI("pcie-to-pci"),
        /** A conventional PCI-to-PCI bridge (no PCIe capability): DMA from behind it is seen as the bridge's own id. */
        PCI("pci");

        private final String word;

        BridgeKind(String word) {
            this.word = word;
        }

        /** How platform files write it: {@code pcie-port}, {@code pcie-to-pci} or {@code pci}. */
        public String word() {
            return word;
        }

        /** The kind a platform file's {@code kind=} word names, or empty. */
        public static Optional<BridgeKind> ofWord(String word) {
            for (BridgeKind kind : values()) {
                if (kind.word.equals(word)) {
                    return Optional.of(kind);
                }
            }
            return Optional.empty();
        }
    }

    /** A PCI-to-PCI bridge (root port, switch port, PCIe-to-PCI or PCI bridge) and the buses behind it. */
    public record Bridge(PciAddress address, int secondary, int subordinate, BridgeKind kind) {
        public Bridge {
            Objects.requireNonNull(address, "address");
            Objects.requireNonNull(kind, "kind");
            checkBusRange(address, secondary, subordinate);
        }

        /** A PCIe root or switch port, the kind that aliases nothing. */
        public Bridge(PciAddress address, int secondary, int subordinate) {
            this(address, secondary, subordinate, BridgeKind.PCIE_PORT);
        }

        public boolean covers(PciAddress device) {
            return device.segment() == address.segment() && device.bus() >= secondary && device.bus() <= subordinate;
        }

        @Override
        public String toString() {
            String range = String.format("%s %02x-%02x", address, secondary, subordinate);
            return kind == BridgeKind.PCIE_PORT ? range : range + " kind=" + kind.word();
        }
    }

    /**
     * An SR-IOV physical function: TotalVFs, NumVFs (enabled), First VF Offset
     * and VF Stride from its SR-IOV capability.
     */
    public record PhysicalFunction(PciAddress address, int totalVfs, int numVfs, int firstVfOffset, int vfStride) {
        public PhysicalFunction {
            Objects.requireNonNull(address, "address");
            if (totalVfs < 0 || totalVfs > 0xFFFF) {
                throw new IllegalArgumentException("PF " + address + ": totalvfs " + totalVfs
                        + " out of range: expected 0..65535");
            }
            if (numVfs < 0 || numVfs > totalVfs) {
                throw new IllegalArgumentException("PF " + address + ": numvfs " + numVfs
                        + " out of range: expected 0..totalvfs (" + totalVfs + ")");
            }
            if (firstVfOffset < 0 || firstVfOffset > 0xFFFF || vfStride < 0 || vfStride > 0xFFFF) {
                throw new IllegalArgumentException("PF " + address + ": VF offset " + firstVfOffset
                        + " or stride " + vfStride + " out of range: expected 0..65535");
            }
            if (numVfs > 0 && firstVfOffset == 0) {
                throw new IllegalArgumentException("PF " + address
                        + ": First VF Offset 0 would put VF 1 on the PF itself: expected an offset of at least 1");
            }
            if (numVfs > 1 && vfStride == 0) {
                throw new IllegalArgumentException("PF " + address + ": VF Stride 0 with " + numVfs
                        + " VFs would put them all on one routing id: expected a stride of at least 1");
            }
            // Every enabled VF must have a routing id on its segment (bus <= 255): name the first that has not.
            if (numVfs > 0 && (long) address.routingId() + firstVfOffset + (long) (numVfs - 1) * vfStride > 0xFFFF) {
                long room = 0xFFFFL - address.routingId() - firstVfOffset;
                int firstBeyond = room < 0 ? 1 : (int) (room / vfStride) + 2;
                vfRoutingId(address, firstVfOffset, vfStride, firstBeyond);
            }
        }

        /** The address of VF {@code n}, 1-based, 1..numVfs. */
        public PciAddress vf(int n) {
            if (n < 1 || n > numVfs) {
                throw new IllegalArgumentException("PF " + address + " has " + numVfs
                        + " VFs enabled: VF " + n + " out of range, expected 1.." + numVfs);
            }
            return PciAddress.ofRoutingId(address.segment(), vfRoutingId(address, firstVfOffset, vfStride, n));
        }

        /** The enabled VFs, VF 1 first. */
        public List<PciAddress> vfs() {
            List<PciAddress> vfs = new ArrayList<>(numVfs);
            for (int n = 1; n <= numVfs; n++) {
                vfs.add(vf(n));
            }
            return vfs;
        }
    }

    /**
     * The routing id of VF {@code n} (1-based) of a PF: PF routing id + First
     * VF Offset + (n-1) x VF Stride, which may cross into following buses.
     *
     * @throws IllegalArgumentException when it lies beyond bus 255, naming the PF
     */
    public static int vfRoutingId(PciAddress pf, int firstVfOffset, int vfStride, int n) {
        long rid = (long) pf.routingId() + firstVfOffset + (long) (n - 1) * vfStride;
        if (rid > 0xFFFF) {
            throw new IllegalArgumentException(String.format(
                    "VF %d of PF %s would have routing id 0x%x, beyond bus 255 (First VF Offset %d, VF Stride %d):"
                            + " expected every VF at or below %04x:ff:1f.7",
                    n, pf, rid, firstVfOffset, vfStride, pf.segment()));
        }
        return (int) rid;
    }

    static void checkBusRange(PciAddress bridge, int secondary, int subordinate) {
        if (secondary < 0 || subordinate > 0xFF || secondary > subordinate) {
            throw new IllegalArgumentException(String.format(
                    "bridge %s: bus range %02x-%02x invalid: expected secondary <= subordinate, both 00..ff",
                    bridge, secondary, subordinate));
        }
        if (secondary <= bridge.bus()) {
            throw new IllegalArgumentException(String.format(
                    "bridge %s: secondary bus %02x not behind the bridge: expected a bus above %02x",
                    bridge, secondary, bridge.bus()));
        }
    }

    private final Map<PciAddress, Function> functions;
    private final List<Bridge> bridges;
    private final List<PhysicalFunction> physicalFunctions;
    private final List<PciAddress> devices;
    /** The endpoints and PFs with a PCIe ATS capability, and its Invalidate Queue Depth field (0 means 32). */
    private final Map<PciAddress, Integer> ats;

    private PciInventory(Map<PciAddress, Function> functions, List<Bridge> bridges,
            List<PhysicalFunction> physicalFunctions, Map<PciAddress, Integer> ats) {
        this.functions = Collections.unmodifiableMap(new TreeMap<>(functions));
        this.bridges = List.copyOf(bridges);
        this.physicalFunctions = List.copyOf(physicalFunctions);
        this.ats = Map.copyOf(ats);
        this.devices = this.functions.values().stream()
                .filter(f -> f.kind() != Kind.BRIDGE)
                .map(Function::address)
                .toList();
    }

    public static PciInventory empty() {
        return new Builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Endpoints, PFs and their enabled VFs (not bridges), in PCI address order. */
    public List<PciAddress> devices() {
        return devices;
    }

    /** Whether the address is a device of {@link #devices()}. */
    public boolean isDevice(PciAddress address) {
        Function f = functions.get(address);
        return f != null && f.kind() != Kind.BRIDGE;
    }

    /**
     * Whether the device has a PCIe ATS capability (extended capability
     * 0x0F), so that it may cache translations in its own device-TLB; a VF
     * has it when its PF has (the SR-IOV spec gives VFs the capability of
     * their PF). Whether it may use it is for the unit and the firmware to say
     * ({@link AtsReports#usesAts}).
     */
    public boolean hasAts(PciAddress device) {
        Function f = functions.get(device);
        return f != null && f.kind() != Kind.BRIDGE && ats.containsKey(scopedAs(device));
    }

    /**
     * The Invalidate Queue Depth field of the device's ATS capability (bits
     * 4:0 of its ATS Capability register, {@code PCI_ATS_CAP_QDEP}; 0 means
     * 32), the PF's for a VF; 0 when the device has no ATS.
     */
    public int atsQueueDepth(PciAddress device) {
        return hasAts(device) ? ats.get(scopedAs(device)) : 0;
    }

    /** Every function, bridges included, in PCI address order. */
    public Map<PciAddress, Function> functions() {
        return functions;
    }

    public Optional<Function> function(PciAddress address) {
        return Optional.ofNullable(functions.get(address));
    }

    public List<Bridge> bridges() {
        return bridges;
    }

    public Optional<Bridge> bridge(PciAddress address) {
        return bridges.stream().filter(b -> b.address().equals(address)).findFirst();
    }

    /**
     * The function whose address DMAR device scopes are matched against for
     * this one: an SR-IOV VF's PF, which firmware lists where the VF is never
     * listed (Linux {@code device_lookup_iommu} via {@code pci_physfn}, Xen
     * {@code acpi_find_matched_drhd_unit} via {@code physfn}); any other
     * function, or an address not in the inventory, itself. The VF keeps its
     * own id for its context entry.
     */
    public PciAddress scopedAs(PciAddress device) {
        Function f = functions.get(device);
        return f != null && f.kind() == Kind.VIRTUAL_FUNCTION ? f.physicalFunction() : device;
    }

    public List<PhysicalFunction> physicalFunctions() {
        return physicalFunctions;
    }

    /** The enabled VFs of every PF, in PCI address order. */
    public List<PciAddress> virtualFunctions() {
        return functions.values().stream()
                .filter(f -> f.kind() == Kind.VIRTUAL_FUNCTION)
                .map(Function::address)
                .toList();
    }

    /**
     * This inventory and another's functions together: a function both have
     * must be the same in both (same kind; a bridge with the same buses, a PF
     * with the same SR-IOV numbers; the same ATS capability), and is kept once.
     *
     * @param source names the other inventory in messages
     * @throws IllegalArgumentException naming the first function the two disagree on
     */
    public PciInventory merge(PciInventory other, String source) {
        return InventoryMerge.merge(this, other, source);
    }

    /** The ATS capabilities by function (endpoints and PFs), for {@link InventoryMerge}. */
    Map<PciAddress, Integer> atsCapabilities() {
        return ats;
    }

    public Optional<PhysicalFunction> physicalFunction(PciAddress address) {
        return physicalFunctions.stream().filter(pf -> pf.address().equals(address)).findFirst();
    }

    /**
     * Collects functions, refusing any address given twice (a VF included);
     * nothing is added by a refused call.
     */
    public static final class Builder {
        private final Map<PciAddress, Function> functions = new TreeMap<>();
        private final List<Bridge> bridges = new ArrayList<>();
        private final List<PhysicalFunction> pfs = new ArrayList<>();
        private final Map<PciAddress, Integer> ats = new TreeMap<>();

        public Builder endpoint(PciAddress address, String origin) {
            return endpoint(address, origin, null);
        }

        /** An endpoint; {@code atsQueueDepth} non-null: it has an ATS capability with that Invalidate Queue Depth. */
        public Builder endpoint(PciAddress address, String origin, Integer atsQueueDepth) {
            checkFree(address, "endpoint " + address);
            checkQueueDepth(address, atsQueueDepth);
            functions.put(address, new Function(address, Kind.ENDPOINT, origin, null, 0));
            if (atsQueueDepth != null) {
                ats.put(address, atsQueueDepth);
            }
            return this;
        }

        public Builder bridge(Bridge bridge, String origin) {
            checkFree(bridge.address(), "bridge " + bridge.address());
            functions.put(bridge.address(), new Function(bridge.address(), Kind.BRIDGE, origin, null, 0));
            bridges.add(bridge);
            return this;
        }

        public Builder physicalFunction(PhysicalFunction pf, String origin) {
            return physicalFunction(pf, origin, null);
        }

        /** A PF and its VFs; {@code atsQueueDepth} non-null: it (and so each VF) has an ATS capability. */
        public Builder physicalFunction(PhysicalFunction pf, String origin, Integer atsQueueDepth) {
            checkFree(pf.address(), "SR-IOV PF " + pf.address());
            checkQueueDepth(pf.address(), atsQueueDepth);
            List<PciAddress> vfs = pf.vfs();
            Map<PciAddress, Integer> seen = new TreeMap<>();
            for (int n = 1; n <= vfs.size(); n++) {
                PciAddress vf = vfs.get(n - 1);
                if (vf.equals(pf.address())) {
                    throw new IllegalArgumentException("VF " + n + " of PF " + pf.address() + " is the PF itself");
                }
                Integer earlier = seen.putIfAbsent(vf, n);
                if (earlier != null) {
                    throw new IllegalArgumentException("VF " + n + " and VF " + earlier + " of PF " + pf.address()
                            + " both at " + vf + ": expected distinct routing ids");
                }
                checkFree(vf, "VF " + n + " of PF " + pf.address() + " at " + vf);
            }
            functions.put(pf.address(), new Function(pf.address(), Kind.PHYSICAL_FUNCTION, origin, null, 0));
            for (int n = 1; n <= vfs.size(); n++) {
                functions.put(vfs.get(n - 1),
                        new Function(vfs.get(n - 1), Kind.VIRTUAL_FUNCTION, origin, pf.address(), n));
            }
            pfs.add(pf);
            if (atsQueueDepth != null) {
                ats.put(pf.address(), atsQueueDepth);
            }
            return this;
        }

        private static void checkQueueDepth(PciAddress address, Integer depth) {
            if (depth != null && (depth < 0 || depth > 31)) {
                throw new IllegalArgumentException("ATS Invalidate Queue Depth " + depth + " of " + address
                        + " out of range: expected 0..31 (a 5-bit field, 0 meaning 32)");
            }
        }

        private void checkFree(PciAddress address, String what) {
            Function existing = functions.get(address);
            if (existing != null) {
                throw new IllegalArgumentException(what + " is already present as " + existing.describe()
                        + ": expected each PCI function once");
            }
        }

        public PciInventory build() {
            return new PciInventory(functions, bridges, pfs, ats);
        }
    }
}
