package iommu.bench;

import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import iommu.alloc.perunit.PerUnitStrategy;
import iommu.api.DomainId;
import iommu.api.GuestId;
import iommu.api.spi.DomainIdAllocator;
import iommu.api.spi.UnitDescriptor;
import iommu.core.assign.DomainIdTable;

/**
 * One unit's domain ids: the seed's algorithm ({@link SeedUnit}), today's
 * Linux driver's ({@link LinuxUnit}) and the platform's code called as the
 * core calls it (the per-unit strategy's allocator and the core's
 * {@link DomainIdTable}).
 *
 * <p>State: the unit has {@code dids} ids and {@code occupancy}% of them in
 * use (reserved ones included), handed out lowest first, so guest g holds
 * DID g. The seed and the platform hold back DID 0; Linux holds back 0 and 1
 * (its IDA starts at {@code IDA_START_DID} = 2; DID 1 is
 * {@code FLPT_DEFAULT_DID}), so it has no guest 1 and the same number of ids
 * in use. The lookups use guests and DIDs 2 and up, which all three have. A
 * hypervisor has only 32,751 guest ids, and one benchmark guest must stay
 * free, so at 65,536 ids guests hold DIDs up to 32,750 and the rest of the
 * occupancy is ids held without a guest (the platform: allocated in the
 * allocator but not in the map, as its quarantine holds them; the seed: bit
 * set, {@code domid_map} = DOMID_INVALID; Linux: in the IDA with no domain,
 * as {@code copy_context_table} holds a kdump kernel's inherited DIDs). All
 * searches walk them the same. Linux's guests each have one device (RID =
 * the guest number) in the unit's device tree.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms512m", "-Xmx512m"})
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class DomainIdBenchmark {

    static final String UNIT = "dmar0";
    /** How many random guests / DIDs the lookups cycle through (a power of two). */
    static final int LOOKUPS = 4096;

    @Param({"seed", "linux", "platform"})
    public String impl;

    @Param({"256", "65536"})
    public int dids;

    /** Percent of the unit's ids in use, DID 0 included. */
    @Param({"50", "90"})
    public int occupancy;

    private boolean seed;
    private boolean linux;
    private SeedUnit seedUnit;
    private LinuxUnit linuxUnit;
    /** Linux's domain of each guest (2..), as VFIO/iommufd hold the pointer; and the one that attaches and detaches. */
    private LinuxUnit.Domain[] linuxDomains;
    private LinuxUnit.Domain linuxNewcomer;
    private LinuxUnit.Domain[] lookupLinuxDomains;
    private DomainIdAllocator allocator;
    private DomainIdTable table;

    /** The guest that attaches and detaches: it holds no id on the unit. */
    private GuestId newcomer;
    private int newcomerInt;
    private GuestId[] lookupGuests;
    private int[] lookupGuestInts;
    private int[] lookupDids;
    private int next;

    @Setup(Level.Trial)
    public void setUp() {
        switch (impl) {
            case "seed" -> seed = true;
            case "linux" -> linux = true;
            case "platform" -> { }
            default -> throw new IllegalArgumentException("impl " + impl + ": expected seed, linux or platform");
        }
        int occupied = (int) Math.round(dids * occupancy / 100.0); // DID 0 (Linux: 0 and 1) included
        int guests = Math.min(occupied - 1, GuestId.MAX - 1);
        int heldWithoutGuest = occupied - 1 - guests;
        newcomer = GuestId.guest(GuestId.MAX);
        newcomerInt = newcomer.value();

        if (seed) {
            seedUnit = new SeedUnit(dids);
            for (int g = 1; g <= guests; g++) {
                int did = seedUnit.contextSetDomainId(g);
                check(did == g, "seed gave guest " + g + " DID " + did);
            }
            for (int k = 0; k < heldWithoutGuest; k++) {
                seedUnit.holdOutOfUse(guests + 1 + k);
            }
        } else if (linux) {
            linuxUnit = new LinuxUnit(0, dids);
            linuxDomains = new LinuxUnit.Domain[guests + 1];
            for (int g = LinuxUnit.IDA_START_DID; g <= guests; g++) { // guest 1's DID is FLPT_DEFAULT_DID
                linuxDomains[g] = new LinuxUnit.Domain(g);
                check(linuxUnit.attachDevice(g, linuxDomains[g]) == 0, "linux refused guest " + g);
                int did = LinuxUnit.domainIdIommu(linuxDomains[g], linuxUnit);
                check(did == g, "linux gave guest " + g + " DID " + did);
            }
            for (int k = 0; k < heldWithoutGuest; k++) {
                int did = guests + 1 + k;
                check(linuxUnit.holdCopiedDid(did) == did, "linux could not hold DID " + did);
            }
            linuxNewcomer = new LinuxUnit.Domain(newcomerInt);
        } else {
            table = new DomainIdTable();
            allocator = new PerUnitStrategy().open(
                    List.of(new UnitDescriptor(UNIT, dids, Set.of(DomainId.of(0)))), List.of());
            for (int g = 1; g <= guests; g++) {
                GuestId guest = GuestId.guest(g);
                DomainId did = allocator.allocate(guest, UNIT);
                check(did.value() == g, "platform gave guest " + g + " DID " + did);
                CoreRig.put(table, guest, UNIT, did);
            }
            for (int k = 0; k < heldWithoutGuest; k++) {
                allocator.allocate(newcomer, UNIT); // the allocator records no guest: an id held out of use
            }
            check(allocator.free(UNIT) == dids - occupied, "platform free " + allocator.free(UNIT));
        }

        SplittableRandom random = new SplittableRandom(42);
        lookupGuests = new GuestId[LOOKUPS];
        lookupGuestInts = new int[LOOKUPS];
        lookupLinuxDomains = new LinuxUnit.Domain[LOOKUPS];
        lookupDids = new int[LOOKUPS];
        for (int i = 0; i < LOOKUPS; i++) {
            int g = 2 + random.nextInt(guests - 1); // 2..guests: every implementation has them
            lookupGuests[i] = GuestId.guest(g);
            lookupGuestInts[i] = g;
            lookupLinuxDomains[i] = linux ? linuxDomains[g] : null;
            lookupDids[i] = 2 + random.nextInt(guests - 1); // guest g holds DID g
        }
        // the same answers from all, before anything is timed
        check(guestToDid() == lookupGuestInts[0], "guest to DID");
        check(didToGuest() == lookupDids[1], "DID to guest");
        int first = allocateRelease();
        check(first == occupied, "allocate+release gave DID " + first + ", expected the lowest free " + occupied);
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            throw new IllegalStateException("benchmark state is wrong: " + what);
        }
    }

    /**
     * A guest gets a DID on the unit and gives it back, the allocator and map
     * work of one attach and one detach: the seed's context_set_domain_id
     * (walk for a DID to reuse, then find_first_zero_bit) and its unmap
     * (walk to find the DID, clear it); Linux's domain_attach_iommu (xa_load
     * for a DID to reuse, ida_alloc_range, xa_cmpxchg), domain_id_iommu as the
     * context entry is written, and domain_detach_iommu (ida_free, xa_erase);
     * the platform's reuse check in the map, allocate, record, then forget and
     * release (XSA-399 order).
     */
    @Benchmark
    public int allocateRelease() {
        if (seed) {
            int did = seedUnit.contextSetDomainId(newcomerInt);
            seedUnit.releaseDomainId(newcomerInt);
            return did;
        }
        if (linux) {
            LinuxUnit.Domain domain = linuxNewcomer;
            if (linuxUnit.domainAttachIommu(domain) != 0) {
                return -1;
            }
            int did = LinuxUnit.domainIdIommu(domain, linuxUnit);
            linuxUnit.domainDetachIommu(domain);
            return did;
        }
        GuestId guest = newcomer;
        Optional<DomainId> held = table.domainId(guest, UNIT);
        DomainId did = held.isPresent() ? held.get() : allocator.allocate(guest, UNIT);
        CoreRig.put(table, guest, UNIT, did);
        CoreRig.remove(table, guest, UNIT, did);
        allocator.release(guest, UNIT, did);
        return did.value();
    }

    /**
     * The flush path: which DID does this guest hold on the unit (to invalidate
     * its IOTLB entries)? Linux: domain_id_iommu from the domain pointer its
     * caller holds (Linux never looks a domain up by a guest number).
     */
    @Benchmark
    public int guestToDid() {
        int i = next++ & (LOOKUPS - 1);
        if (seed) {
            return seedUnit.domainIommuDomid(lookupGuestInts[i]);
        }
        if (linux) {
            return LinuxUnit.domainIdIommu(lookupLinuxDomains[i], linuxUnit);
        }
        Optional<DomainId> did = table.domainId(lookupGuests[i], UNIT);
        return did.isPresent() ? did.get().value() : -1;
    }

    /**
     * The fault path: which guest holds the DID a context entry carries? Linux
     * has no table for it (its fault path goes from the requester id to the
     * device); what it would need is the walk of the unit's devices,
     * {@link LinuxUnit#domainOfDid}, O(devices).
     */
    @Benchmark
    public int didToGuest() {
        int did = lookupDids[next++ & (LOOKUPS - 1)];
        if (seed) {
            return seedUnit.contextGetDomainId(did);
        }
        if (linux) {
            LinuxUnit.Domain domain = linuxUnit.domainOfDid(did);
            return domain == null ? -1 : domain.guest;
        }
        Optional<GuestId> guest = table.guest(UNIT, DomainId.of(did));
        return guest.isPresent() ? guest.get().value() : -1;
    }
}
