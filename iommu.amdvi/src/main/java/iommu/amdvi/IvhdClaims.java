package iommu.amdvi;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Which IVHD finally translates each device id its entries name, as Linux
 * decides it at discovery (drivers/iommu/amd/init.c): {@code init_iommu_all}
 * calls {@code init_iommu_one} for each IVHD in table order;
 * {@code init_iommu_from_acpi} sets {@code rlookup_table[devid] = iommu} for
 * every id the IVHD names ({@code set_iommu_for_device}, now
 * {@code amd_iommu_set_rlookup_table}), so where two IVHDs name the same ids
 * (multi-IOMMU Threadripper boards) the <b>last</b> one keeps them; then
 * {@code init_iommu_one} sets {@code rlookup_table[iommu->devid] = NULL}:
 * "Make sure IOMMU is not considered to translate itself. The IVRS table
 * tells us so, but this is a lie!" (firmware's ranges usually start at
 * 00:00.0 and cover the IOMMU's own function).
 *
 * <p>Applied to the units of one table, this leaves no two IVHDs naming one
 * id, so the platform's rule for equal claims ({@code UnitClaims}) never has
 * to choose between them. An ALL entry keeps the platform's ranking (a named
 * id beats it), where Linux's IVHD_DEV_ALL would also overwrite the ids an
 * earlier IVHD named; an IOMMU's own function is left out of every unit of
 * its segment, ALL ones too, unless a later IVHD names it again.
 */
final class IvhdClaims {

    /** An id set to NULL: an IOMMU's own function. */
    private static final int NONE = -1;
    /** An id no IVHD named. */
    private static final int UNSET = -2;

    private IvhdClaims() {
    }

    /**
     * The units with the ids Linux would not give them removed, in the same
     * order; one warning per pair of IVHDs that name the same ids.
     */
    static List<UnitDefinition> resolve(String source, List<UnitDefinition> units, List<String> warnings) {
        Map<Integer, int[]> owners = new HashMap<>(); // segment -> the index of the unit owning each id
        Map<List<Integer>, BitSet> overlaps = new LinkedHashMap<>(); // {earlier, later} -> ids taken
        for (int i = 0; i < units.size(); i++) {
            UnitDefinition u = units.get(i);
            int[] owner = owners.computeIfAbsent(u.segment(), s -> {
                int[] o = new int[0x10000];
                Arrays.fill(o, UNSET);
                return o;
            });
            BitSet named = u.named();
            for (int id = named.nextSetBit(0); id >= 0; id = named.nextSetBit(id + 1)) {
                if (owner[id] >= 0 && owner[id] != i) {
                    overlaps.computeIfAbsent(List.of(owner[id], i), k -> new BitSet()).set(id);
                }
                owner[id] = i;
            }
            owner[u.ivhd().deviceId()] = NONE;
        }
        for (Map.Entry<List<Integer>, BitSet> o : overlaps.entrySet()) {
            BitSet ids = o.getValue();
            UnitDefinition earlier = units.get(o.getKey().get(0));
            UnitDefinition later = units.get(o.getKey().get(1));
            int first = ids.nextSetBit(0);
            int last = ids.length() - 1;
            warnings.add(String.format("IVRS %s: %s and %s both name %d device ids (%s..%s): the later one"
                    + " translates them, as Linux's init_iommu_from_acpi overwrites its rlookup table IVHD by IVHD",
                    source, earlier.ivhd().describe(), later.ivhd().describe(), ids.cardinality(), Bdf.of(first),
                    Bdf.of(last)));
        }
        List<UnitDefinition> resolved = new ArrayList<>(units.size());
        for (int i = 0; i < units.size(); i++) {
            UnitDefinition u = units.get(i);
            int[] owner = owners.get(u.segment());
            BitSet removed = new BitSet();
            BitSet named = u.named();
            for (int id = named.nextSetBit(0); id >= 0; id = named.nextSetBit(id + 1)) {
                if (owner[id] != i) {
                    removed.set(id);
                }
            }
            for (UnitDefinition other : units) {
                int iommu = other.ivhd().deviceId();
                if (other.segment() == u.segment() && owner[iommu] == NONE) {
                    removed.set(iommu);
                }
            }
            resolved.add(removed.isEmpty() ? u : u.withoutClaims(removed));
        }
        return resolved;
    }
}
