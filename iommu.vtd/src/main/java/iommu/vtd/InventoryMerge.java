package iommu.vtd;

import java.util.Map;
import java.util.Objects;

import iommu.api.PciAddress;

/**
 * Two PCI inventories as one ({@link PciInventory#merge}): what discovery
 * adds to the platform's. A function both have must be the same in both, its
 * ATS capability included, else the whole merge is refused naming it: a
 * topology is never half taken.
 */
final class InventoryMerge {

    private InventoryMerge() {
    }

    static PciInventory merge(PciInventory ours, PciInventory other, String source) {
        if (other.functions().isEmpty()) {
            return ours;
        }
        if (ours.functions().isEmpty()) {
            return other;
        }
        Map<PciAddress, Integer> ourAts = ours.atsCapabilities();
        Map<PciAddress, Integer> theirAts = other.atsCapabilities();
        PciInventory.Builder builder = PciInventory.builder();
        add(builder, ours, null);
        for (PciInventory.Function theirs : other.functions().values()) {
            PciInventory.Function mine = ours.functions().get(theirs.address());
            if (mine == null) {
                continue;
            }
            boolean sameAts = Objects.equals(ourAts.get(mine.address()), theirAts.get(theirs.address()));
            if (!sameAts || !sameShape(ours, mine, other, theirs)) {
                String what = describe(other, theirs) + (sameAts ? "" : ats(theirAts, theirs.address()));
                String present = describe(ours, mine) + (sameAts ? "" : ats(ourAts, mine.address()));
                throw new IllegalArgumentException(source + " has " + what + " where the platform has " + present
                        + ": expected the same PCI topology");
            }
        }
        add(builder, other, ours);
        return builder.build();
    }

    private static boolean sameShape(PciInventory ours, PciInventory.Function mine, PciInventory other,
            PciInventory.Function theirs) {
        return mine.kind() == theirs.kind() && switch (mine.kind()) {
            case ENDPOINT -> true;
            case BRIDGE -> ours.bridge(mine.address()).equals(other.bridge(theirs.address()));
            case PHYSICAL_FUNCTION -> ours.physicalFunction(mine.address()).equals(
                    other.physicalFunction(theirs.address()));
            case VIRTUAL_FUNCTION -> mine.physicalFunction().equals(theirs.physicalFunction())
                    && mine.vfIndex() == theirs.vfIndex();
        };
    }

    private static String describe(PciInventory inventory, PciInventory.Function f) {
        return switch (f.kind()) {
            case BRIDGE -> "bridge " + inventory.bridge(f.address()).orElseThrow();
            case PHYSICAL_FUNCTION -> "SR-IOV PF " + f.address() + " with "
                    + inventory.physicalFunction(f.address()).orElseThrow().numVfs() + " VFs";
            default -> f.describe();
        };
    }

    private static String ats(Map<PciAddress, Integer> ats, PciAddress address) {
        return ats.containsKey(address) ? " with ATS" : " without ATS";
    }

    /** The endpoints, bridges and PFs of {@code from} that {@code except} lacks (all when null). */
    private static void add(PciInventory.Builder builder, PciInventory from, PciInventory except) {
        Map<PciAddress, Integer> ats = from.atsCapabilities();
        from.functions().values().stream()
                .filter(f -> f.kind() == PciInventory.Kind.ENDPOINT && absent(except, f.address()))
                .forEach(f -> builder.endpoint(f.address(), f.origin(), ats.get(f.address())));
        from.bridges().stream().filter(b -> absent(except, b.address()))
                .forEach(b -> builder.bridge(b, from.functions().get(b.address()).origin()));
        from.physicalFunctions().stream().filter(pf -> absent(except, pf.address()))
                .forEach(pf -> builder.physicalFunction(pf, from.functions().get(pf.address()).origin(),
                        ats.get(pf.address())));
    }

    private static boolean absent(PciInventory inventory, PciAddress address) {
        return inventory == null || !inventory.functions().containsKey(address);
    }
}
