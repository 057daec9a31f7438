package iommu.amdvi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;

import org.junit.jupiter.api.Test;

import iommu.api.DomainId;
import iommu.api.GuestId;
import iommu.api.PciAddress;
import iommu.api.spi.DeviceContext;
import iommu.api.spi.Invalidation;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;

/** Bit-exact device table entries, commands and events. */
class EncodingTest {

    @Test
    void aTranslatingEntryHasTheSpecsBits() {
        DeviceTableEntry e = DeviceTableEntry.translating(0x40_0000_0000L, 4, 0x1234, 0xD7);
        // V 0, TV 1, Mode 11:9 = 4, root 51:12, IR 61, IW 62
        assertThat(e.q0()).isEqualTo(0x6000_0040_0000_0803L);
        // DomainID 79:64 = DTE[1] 15:0; SysMgt (setting 5:4 = 01b) in 105:104 = DTE[1] 41:40
        assertThat(e.q1()).isEqualTo(0x0000_0100_0000_1234L);
        // InitPass 184, EIntPass 185, NMIPass 186, Lint0Pass 190, Lint1Pass 191 (setting bits 0,1,2,6,7)
        assertThat(e.q2()).isEqualTo(0xC700_0000_0000_0000L);
        assertThat(e.q3()).isZero();
        assertThat(e.translates()).isTrue();
        assertThat(e.mode()).isEqualTo(4);
        assertThat(e.root()).isEqualTo(0x40_0000_0000L);
        assertThat(e.domainId()).isEqualTo(0x1234);
    }

    @Test
    void aBlockedEntryIsValidTranslatingModeZeroWithoutRights() {
        DeviceTableEntry e = DeviceTableEntry.blocked(0);
        assertThat(e.q0()).isEqualTo(0x3L);
        assertThat(e.q1()).isZero();
        assertThat(e.translates()).isFalse();
        assertThat(e.ir()).isFalse();
        assertThat(e.iw()).isFalse();
    }

    @Test
    void theUnitWritesTheEntryIntoItsDeviceTable() {
        UnitRegistry registry = new UnitRegistry(UnitRegistry.Publisher.NONE);
        AmdViUnit unit = registry.addAll(IvrsPlatform.parse("t", IvrsParserTest.table("ivrs-10h.aml")).units(), "t")
                .get(0);
        PciAddress smbus = PciAddress.parse("00:14.0");
        long at = AmdViUnit.DEVICE_TABLE + 0xA0L * 32;
        // at bring-up: blocked, with the IVHD's setting D7
        assertThat(unit.memory().read64(at)).isEqualTo(0x3L);
        assertThat(unit.memory().read64(at + 16)).isEqualTo(0xC700_0000_0000_0000L);
        unit.setContext(smbus, new DeviceContext(DomainId.of(0x1234), GuestId.guest(3)));
        long q0 = unit.memory().read64(at);
        assertThat(q0 & 0xFFF).isEqualTo(0x803L);
        assertThat(q0 >>> 61).isEqualTo(3L);
        assertThat(unit.memory().read64(at + 8)).isEqualTo(0x0000_0100_0000_1234L);
        assertThat(unit.context(smbus)).contains(new DeviceContext(DomainId.of(0x1234), GuestId.guest(3)));
        assertThat(unit.describeContext(smbus)).containsEntry("V", true).containsEntry("TV", true)
                .containsEntry("Mode", 4).containsEntry("DomainID", 0x1234).containsEntry("IR", true)
                .containsEntry("InitPass", true).containsEntry("SysMgt", 1).containsEntry("guest", 3);
        unit.clearContext(smbus);
        assertThat(unit.memory().read64(at)).isEqualTo(0x3L);
        assertThat(unit.memory().read64(at + 8)).isEqualTo(0x0000_0100_0000_0000L);
        assertThat(unit.context(smbus)).isEmpty();
    }

    @Test
    void completionWaitEncoding() {
        long[] q = new Command.CompletionWait(true, false, false, 0x1_2345_6788L, 0x1122_3344_5566_7788L).encode();
        // dword0: address 31:3 | s; dword1: address 51:32 | opcode 1 << 28; dwords 2-3: data
        assertThat(q[0]).isEqualTo(0x1000_0001_2345_6789L);
        assertThat(q[1]).isEqualTo(0x1122_3344_5566_7788L);
        assertThat(new Command.CompletionWait(false, true, true, 0, 0).encode()[0]).isEqualTo(0x1000_0000_0000_0006L);
    }

    @Test
    void invalidateDevtabEntryEncoding() {
        assertThat(new Command.InvalidateDevtabEntry(0x4100).encode()).containsExactly(0x2000_0000_0000_4100L, 0L);
    }

    @Test
    void invalidateIommuPagesEncoding() {
        // one page: S clear, PDE set, address as is
        assertThat(Command.InvalidateIommuPages.of(7, 0x1234_5000L, 0).encode())
                .containsExactly(0x3000_0007_0000_0000L, 0x0000_0000_1234_5002L);
        // 16 pages at 0x10000: S set, address bits 12..14 set, bit 15 clear (Linux build_inv_address)
        assertThat(Command.InvalidateIommuPages.of(7, 0x10000L, 4).encode())
                .containsExactly(0x3000_0007_0000_0000L, 0x0000_0000_0001_7003L);
        // the whole domain
        assertThat(Command.InvalidateIommuPages.all(9).encode())
                .containsExactly(0x3000_0009_0000_0000L, 0x7FFF_FFFF_FFFF_F003L);
    }

    @Test
    void invalidateIommuAllEncoding() {
        assertThat(new Command.InvalidateIommuAll().encode()).containsExactly(0x8000_0000_0000_0000L, 0L);
    }

    @Property
    void pagesCommandsCoverExactlyTheirNaturallyAlignedRange(@ForAll @IntRange(min = 0, max = 30) int order,
            @ForAll @LongRange(min = 0, max = (1L << 36) - 1) long page, @ForAll @LongRange(min = 0,
                    max = (1L << 36) - 1) long probe) {
        long first = page >>> order << order;
        Command.InvalidateIommuPages c = Command.InvalidateIommuPages.of(5, first << 12, order);
        Command.InvalidateIommuPages back = (Command.InvalidateIommuPages) Command.decode(c.encode()[0],
                c.encode()[1]);
        assertThat(back).isEqualTo(c);
        assertThat(back.order()).isEqualTo(order);
        assertThat(back.covers(first)).isTrue();
        assertThat(back.covers(first + (1L << order) - 1)).isTrue();
        assertThat(back.covers(probe)).isEqualTo(probe >= first && probe < first + (1L << order));
    }

    @Test
    void theAllPagesAddressCoversEverything() {
        Command.InvalidateIommuPages all = Command.InvalidateIommuPages.all(1);
        assertThat(all.order()).isEqualTo(52);
        assertThat(all.covers(0)).isTrue();
        assertThat(all.covers((1L << 40) - 1)).isTrue();
    }

    @Test
    void eventEncodingRoundTrips() {
        Event e = new Event(Event.IO_PAGE_FAULT, 0x4100, 0x0001, Event.FLAG_RW | Event.FLAG_TR, 0x1000);
        long[] q = e.encode();
        assertThat(q[0]).isEqualTo(0x2120_0001_0000_4100L);
        assertThat(q[1]).isEqualTo(0x1000L);
        assertThat(Event.decode(q[0], q[1])).isEqualTo(e);
        assertThat(e.describe(0)).isEqualTo("Event logged [IO_PAGE_FAULT device=0000:41:00.0 domain=0x0001"
                + " address=0x1000 flags=0x0120]");
    }

    @Test
    void theVendorNeutralKindsBecomeTheseCommands() {
        UnitRegistry registry = new UnitRegistry(UnitRegistry.Publisher.NONE);
        List<AmdViUnit> units = registry.addAll(IvrsPlatform.parse("t", IvrsParserTest.table("ivrs-11h.aml"))
                .units(), "t");
        AmdViUnit withIa = units.get(0);
        AmdViUnit aliased = units.get(1);
        DomainId did = DomainId.of(3);
        assertThat(withIa.commandsFor(new Invalidation.Device(PciAddress.parse("01:00.0"), did)))
                .containsExactly(new Command.InvalidateDevtabEntry(0x0100));
        assertThat(aliased.commandsFor(new Invalidation.Device(PciAddress.parse("43:00.0"), did)))
                .containsExactly(new Command.InvalidateDevtabEntry(0x4300), new Command.InvalidateDevtabEntry(0x4208));
        assertThat(withIa.commandsFor(new Invalidation.Domain(did)))
                .containsExactly(Command.InvalidateIommuPages.all(3));
        assertThat(withIa.commandsFor(new Invalidation.Pages(did, 0x20_0000L, 9)))
                .containsExactly(new Command.InvalidateIommuPages(0, 3, 0x2F_F000L, true, true, false));
        assertThat(withIa.commandsFor(new Invalidation.Global())).containsExactly(new Command.InvalidateIommuAll());
        // without EFR.IASup: every device table entry, then every domain (Linux amd_iommu_flush_all_caches)
        List<Command> fallback = aliased.commandsFor(new Invalidation.Global());
        assertThat(fallback).hasSize(0x8000 + 0x10000);
        assertThat(fallback.get(0)).isEqualTo(new Command.InvalidateDevtabEntry(0));
        assertThat(fallback.get(fallback.size() - 1)).isEqualTo(Command.InvalidateIommuPages.all(0xFFFF));
    }

    @Test
    void aBatchEndsWithOneCompletionWaitWhoseStoreCompletesTheStage() {
        UnitRegistry registry = new UnitRegistry(UnitRegistry.Publisher.NONE);
        AmdViUnit unit = registry.addAll(IvrsPlatform.parse("t", IvrsParserTest.table("ivrs-11h.aml")).units(), "t")
                .get(0);
        long head = unit.readRegister(Mmio.CMD_HEAD);
        unit.holdInvalidations();
        var stage = unit.invalidate(List.of(new Invalidation.Device(PciAddress.parse("01:00.0"), DomainId.of(1)),
                new Invalidation.Domain(DomainId.of(1))));
        assertThat(stage.toCompletableFuture()).isNotDone();
        assertThat(unit.pendingInvalidationBatches()).isEqualTo(1);
        Memory m = unit.memory();
        long base = AmdViUnit.COMMAND_BUFFER;
        assertThat(new long[] {m.read64(base + head), m.read64(base + head + 8)})
                .containsExactly(new Command.InvalidateDevtabEntry(0x100).encode());
        assertThat(new long[] {m.read64(base + head + 16), m.read64(base + head + 24)})
                .containsExactly(Command.InvalidateIommuPages.all(1).encode());
        Command wait = Command.decode(m.read64(base + head + 32), m.read64(base + head + 40));
        assertThat(wait).isInstanceOf(Command.CompletionWait.class);
        Command.CompletionWait w = (Command.CompletionWait) wait;
        assertThat(w.store()).isTrue();
        assertThat(w.address()).isEqualTo(AmdViUnit.SEMAPHORE);
        assertThat(m.read64(AmdViUnit.SEMAPHORE)).isLessThan(w.data());
        unit.releaseInvalidations();
        assertThat(stage.toCompletableFuture()).isCompleted();
        assertThat(m.read64(AmdViUnit.SEMAPHORE)).isEqualTo(w.data());
        assertThat(unit.invalidationCounts()).containsEntry("device", 1L).containsEntry("domain", 1L)
                .containsEntry("performed.devtab", 1L).containsEntry("performed.pages", 1L)
                .containsEntry("performed.wait", 1L);
    }

    @Test
    void theReservedDomainIdIsRefused() {
        UnitRegistry registry = new UnitRegistry(UnitRegistry.Publisher.NONE);
        AmdViUnit unit = registry.addAll(IvrsPlatform.parse("t", IvrsParserTest.table("ivrs-11h.aml")).units(), "t")
                .get(0);
        assertThat(unit.domainIdCount()).isEqualTo(65536);
        assertThat(unit.reservedDomainIds()).containsExactly(DomainId.of(0));
        assertThatThrownBy(() -> unit.setContext(PciAddress.parse("01:00.0"),
                new DeviceContext(DomainId.of(0), GuestId.guest(1)))).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("domain id 0 is reserved on unit ivhd0: expected 1..65535");
    }
}
