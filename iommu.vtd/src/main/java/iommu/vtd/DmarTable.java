package iommu.vtd;

import java.util.List;
import java.util.Objects;

/**
 * An ACPI DMAR table as {@link DmarParser} read it: the header fields and
 * every well-formed remapping structure in table order, with the warnings
 * about what was skipped (a malformed DRHD, an unknown structure type). The
 * byte offsets are the structures' offsets in the table, for messages.
 *
 * <p>Nothing here is resolved against a PCI topology yet: device scopes are
 * kept as the firmware wrote them (start bus and a path of (device, function)
 * hops); {@link DmarUnits} walks them.
 *
 * @param source the file (or resource) it came from, for messages
 * @param length the table length field (bytes)
 * @param revision the header revision
 * @param oemId OEM ID, 6 characters
 * @param oemTableId OEM table ID, 8 characters
 * @param oemRevision OEM revision
 * @param creatorId creator (ASL compiler) ID, 4 characters
 * @param creatorRevision creator revision
 * @param hostAddressWidth host address width in bits: the field at offset 36 plus one
 * @param flags the DMAR flags at offset 37 (bit 0 INTR_REMAP, bit 1 X2APIC_OPT_OUT, bit 2 DMA_CTRL_PLATFORM_OPT_IN)
 * @param structures the well-formed structures, in table order
 * @param warnings one line per problem that did not stop the parse
 */
public record DmarTable(String source, int length, int revision, String oemId, String oemTableId, long oemRevision,
        String creatorId, long creatorRevision, int hostAddressWidth, int flags, List<Structure> structures,
        List<String> warnings) {

    public static final int TYPE_DRHD = 0;
    public static final int TYPE_RMRR = 1;
    public static final int TYPE_ATSR = 2;
    public static final int TYPE_RHSA = 3;
    public static final int TYPE_ANDD = 4;
    public static final int TYPE_SATC = 5;

    /** DRHD flag bit 0: the unit serves every device of its segment that no other unit names. */
    public static final int DRHD_INCLUDE_PCI_ALL = 1;

    public DmarTable {
        Objects.requireNonNull(source, "source");
        structures = List.copyOf(structures);
        warnings = List.copyOf(warnings);
    }

    /** The name of a structure type for messages: DRHD, RMRR, ..., or {@code structure type N}. */
    public static String typeName(int type) {
        return switch (type) {
            case TYPE_DRHD -> "DRHD";
            case TYPE_RMRR -> "RMRR";
            case TYPE_ATSR -> "ATSR";
            case TYPE_RHSA -> "RHSA";
            case TYPE_ANDD -> "ANDD";
            case TYPE_SATC -> "SATC";
            default -> "structure type " + type;
        };
    }

    /** {@code DRHD #2 at offset 0x78}: how messages name a structure (index counts that type from 0). */
    public static String describe(int type, int index, int offset) {
        return type >= TYPE_DRHD && type <= TYPE_SATC
                ? String.format("%s #%d at offset 0x%x", typeName(type), index, offset)
                : String.format("%s at offset 0x%x", typeName(type), offset);
    }

    /** One remapping structure. */
    public sealed interface Structure permits Drhd, Rmrr, Atsr, Rhsa, Andd, Satc, Unknown {
        /** The structure type field. */
        int type();

        /** Which one of its type, from 0 in table order (malformed ones count too). */
        int index();

        /** Byte offset of the structure in the table. */
        int offset();

        /** The structure length field. */
        int length();

        default String describe() {
            return DmarTable.describe(type(), index(), offset());
        }
    }

    /** DMA-remapping hardware unit definition (type 0). */
    public record Drhd(int index, int offset, int length, int flags, int size, int segment, long registerBase,
            List<Scope> scopes) implements Structure {
        public Drhd {
            scopes = List.copyOf(scopes);
        }

        @Override
        public int type() {
            return TYPE_DRHD;
        }

        public boolean includePciAll() {
            return (flags & DRHD_INCLUDE_PCI_ALL) != 0;
        }
    }

    /** Reserved memory region reporting (type 1): memory the devices of its scopes DMA to on their own. */
    public record Rmrr(int index, int offset, int length, int segment, long base, long limit, List<Scope> scopes)
            implements Structure {
        public Rmrr {
            scopes = List.copyOf(scopes);
        }

        @Override
        public int type() {
            return TYPE_RMRR;
        }
    }

    /** Root port ATS capability reporting (type 2); flags bit 0 ALL_PORTS. */
    public record Atsr(int index, int offset, int length, int flags, int segment, List<Scope> scopes)
            implements Structure {
        public Atsr {
            scopes = List.copyOf(scopes);
        }

        @Override
        public int type() {
            return TYPE_ATSR;
        }

        public boolean allPorts() {
            return (flags & 1) != 0;
        }
    }

    /** Remapping hardware static affinity (type 3): the NUMA proximity domain of a unit. */
    public record Rhsa(int index, int offset, int length, long registerBase, long proximityDomain)
            implements Structure {
        @Override
        public int type() {
            return TYPE_RHSA;
        }
    }

    /** ACPI name-space device declaration (type 4): the device a namespace scope's enumeration id names. */
    public record Andd(int index, int offset, int length, int deviceNumber, String name) implements Structure {
        @Override
        public int type() {
            return TYPE_ANDD;
        }
    }

    /** SoC integrated address translation cache (type 5); flags bit 0 ATC_REQUIRED. */
    public record Satc(int index, int offset, int length, int flags, int segment, List<Scope> scopes)
            implements Structure {
        public Satc {
            scopes = List.copyOf(scopes);
        }

        @Override
        public int type() {
            return TYPE_SATC;
        }
    }

    /** A structure of a type this parser does not know, skipped by its length. */
    public record Unknown(int index, int offset, int type, int length) implements Structure {
    }

    /** One (device, function) hop of a scope's path. */
    public record Hop(int device, int function) {
        @Override
        public String toString() {
            return String.format("%02x.%x", device, function);
        }
    }

    /**
     * A device scope as the firmware wrote it: the function is found by
     * starting on {@code startBus} and following each hop but the last
     * through a bridge to its secondary bus.
     *
     * @param offset byte offset of the scope in the table
     * @param type 1 PCI endpoint, 2 PCI sub-hierarchy (bridge), 3 IOAPIC, 4 MSI-capable HPET, 5 ACPI namespace device
     * @param flags the byte at offset 2 (reserved before VT-d 4; some firmware sets it)
     * @param enumerationId the IOAPIC id, HPET number or ANDD device number
     */
    public record Scope(int offset, int type, int length, int flags, int enumerationId, int startBus, List<Hop> path) {
        public static final int ENDPOINT = 1;
        public static final int BRIDGE = 2;
        public static final int IOAPIC = 3;
        public static final int HPET = 4;
        public static final int NAMESPACE = 5;

        public Scope {
            path = List.copyOf(path);
        }

        public String typeName() {
            return switch (type) {
                case ENDPOINT -> "endpoint";
                case BRIDGE -> "bridge";
                case IOAPIC -> "IOAPIC";
                case HPET -> "HPET";
                case NAMESPACE -> "ACPI namespace device";
                default -> "type " + type;
            };
        }

        /** Whether the scope names a PCI function that does DMA through the unit (endpoint or bridge). */
        public boolean isPci() {
            return type == ENDPOINT || type == BRIDGE;
        }

        /** {@code bridge 00:[1c.0/00.0]}: the start bus and the path as written. */
        @Override
        public String toString() {
            StringBuilder sb = new StringBuilder(typeName()).append(String.format(" %02x:[", startBus));
            for (int i = 0; i < path.size(); i++) {
                sb.append(i == 0 ? "" : "/").append(path.get(i));
            }
            return sb.append(']').toString();
        }
    }

    public List<Drhd> drhds() {
        return of(Drhd.class);
    }

    public List<Rmrr> rmrrs() {
        return of(Rmrr.class);
    }

    public List<Atsr> atsrs() {
        return of(Atsr.class);
    }

    public List<Rhsa> rhsas() {
        return of(Rhsa.class);
    }

    public List<Andd> andds() {
        return of(Andd.class);
    }

    public List<Satc> satcs() {
        return of(Satc.class);
    }

    public List<Unknown> unknown() {
        return of(Unknown.class);
    }

    private <T extends Structure> List<T> of(Class<T> type) {
        return structures.stream().filter(type::isInstance).map(type::cast).toList();
    }

    /** Whether the DMAR flags say interrupt remapping is supported (bit 0). */
    public boolean interruptRemapping() {
        return (flags & 1) != 0;
    }
}
