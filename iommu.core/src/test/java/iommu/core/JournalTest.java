package iommu.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import iommu.alloc.perunit.PerUnitStrategy;
import iommu.core.recovery.Journal;
import iommu.core.assign.Attachment;
import iommu.core.assign.GuestMappings;
import iommu.api.DomainId;
import iommu.api.GuestId;
import iommu.api.PciAddress;
import iommu.api.spi.DeviceContext;

class JournalTest {

    @TempDir
    Path dir;

    static final PciAddress DEV = PciAddress.parse("0000:18:10.0");

    @Test
    void recordsReplayIntoTheStateTheyDescribe() {
        Map<PciAddress, Attachment> attachments = new TreeMap<>();
        try (Journal j = Journal.rewrite(dir, attachments, Map.of())) {
            j.append(List.of(Journal.attach(new Attachment(DEV, GuestId.guest(3), "dmar0", DomainId.of(7))),
                    Journal.map(GuestId.guest(3), 0x10000, 0x7f000000, 4),
                    Journal.unmap(GuestId.guest(3), 0x11000, 1)));
        }
        Journal.State state = Journal.read(dir);
        assertThat(state.attachments).containsEntry(DEV, new Attachment(DEV, GuestId.guest(3), "dmar0", DomainId.of(7)));
        assertThat(state.mappings.get(GuestId.guest(3)).runs()).containsExactly(
                new GuestMappings.Run(0x10, 0x7f000, 1), new GuestMappings.Run(0x12, 0x7f002, 2));
    }

    @Test
    void aTornLastRecordWasNeverAcknowledgedAndIsDropped() throws Exception {
        try (Journal j = Journal.rewrite(dir, Map.of(), Map.of())) {
            j.append(List.of(Journal.attach(new Attachment(DEV, GuestId.guest(3), "dmar0", DomainId.of(7)))));
        }
        Files.writeString(dir.resolve(Journal.FILE), "1234abcd detach 0000:18", StandardCharsets.UTF_8,
                java.nio.file.StandardOpenOption.APPEND);
        assertThat(Journal.read(dir).attachments).containsKey(DEV);
    }

    @Test
    void aDamagedRecordInTheMiddleIsRefusedWithItsLine() throws Exception {
        Path file = dir.resolve(Journal.FILE);
        try (Journal j = Journal.rewrite(dir, Map.of(), Map.of())) {
            j.append(List.of(Journal.attach(new Attachment(DEV, GuestId.guest(3), "dmar0", DomainId.of(7))),
                    Journal.detach(DEV)));
        }
        List<String> lines = Files.readAllLines(file);
        Files.write(file, List.of(lines.get(0), lines.get(1).replace("guest", "x").replace(" 7 ", " 8 "), lines.get(2)));
        assertThatThrownBy(() -> Journal.read(dir)).hasMessageStartingWith(file + ":2: damaged record")
                .hasMessageContaining("CRC-32 does not match");
    }

    @Test
    void anotherFormatVersionIsRefused() throws Exception {
        Files.writeString(dir.resolve(Journal.FILE), "iommu-journal 2\n");
        assertThatThrownBy(() -> Journal.read(dir)).hasMessageContaining(":1: not a journal of this platform")
                .hasMessageContaining("expected 'iommu-journal 1'").hasMessageContaining("another format version");
        Files.writeString(dir.resolve(Journal.FILE), "hello\n");
        assertThatThrownBy(() -> Journal.read(dir)).hasMessageContaining("found 'hello'");
    }

    @Test
    void aNewProcessOnTheSameDirectoryGetsEverythingBack() {
        Fixture first = new Fixture();
        TestUnit dmar0 = new TestUnit("dmar0", 256, first.events).withDevices(0x18, 4);
        TestUnit dmar1 = new TestUnit("dmar1", 256, first.events).withDevices(0x3b, 4);
        AssignmentManager m = first.manager(Fixture.config("per-unit", dir.toString()), List.of(dmar0, dmar1),
                new PerUnitStrategy());
        PciAddress a0 = dmar0.deviceList().get(0);
        PciAddress a1 = dmar0.deviceList().get(1);
        PciAddress b0 = dmar1.deviceList().get(0);
        m.attach(GuestId.guest(5), List.of(a0, b0));
        m.attach(GuestId.guest(6), List.of(a1));
        m.detach(List.of(b0));
        m.map(GuestId.guest(5), 0x100000, 0x40000000, 8);
        String before = AssignmentManagerTest.snapshot(m);

        // the process dies: new units with empty tables, a new manager on the same directory
        Fixture second = new Fixture();
        TestUnit newDmar0 = new TestUnit("dmar0", 256, second.events).withDevices(0x18, 4);
        TestUnit newDmar1 = new TestUnit("dmar1", 256, second.events).withDevices(0x3b, 4);
        AssignmentManager again = second.manager(Fixture.config("per-unit", dir.toString()), List.of(newDmar0, newDmar1),
                new PerUnitStrategy());
        assertThat(AssignmentManagerTest.snapshot(again)).isEqualTo(before);
        assertThat(newDmar0.context(a0)).contains(new DeviceContext(DomainId.of(1), GuestId.guest(5)));
        assertThat(newDmar0.context(a1)).contains(new DeviceContext(DomainId.of(2), GuestId.guest(6)));
        assertThat(second.events).contains("dmar0 map guest 5 0x100000->0x40000000 x8");
        assertThat(again.state().restored).isEqualTo(2);
        assertThat(again.state().problems).isEmpty();
        assertThat(again.state().directory).isEqualTo(dir.toString());
        assertThat(again.audit()).isEmpty();
        // the ids are known taken: the next guest on dmar0 gets 3
        assertThat(again.attach(GuestId.guest(7), List.of(newDmar0.deviceList().get(2))).devices.get(0).did).isEqualTo(3);
    }

    @Test
    void disagreementsBetweenTheJournalAndTheUnitsAreReportedNotGuessed() {
        Fixture first = new Fixture();
        TestUnit dmar0 = new TestUnit("dmar0", 256, first.events).withDevices(0x18, 4);
        AssignmentManager m = first.manager(Fixture.config("per-unit", dir.toString()), List.of(dmar0), new PerUnitStrategy());
        PciAddress a0 = dmar0.deviceList().get(0);
        m.attach(GuestId.guest(5), List.of(a0));
        m.deactivate();
        // the unit kept its tables but now says something else about the device
        dmar0.contexts.put(a0, new DeviceContext(DomainId.of(9), GuestId.guest(8)));
        Fixture second = new Fixture();
        AssignmentManager again = second.manager(Fixture.config("per-unit", dir.toString()), List.of(dmar0),
                new PerUnitStrategy());
        assertThat(again.state().problems).singleElement().asString()
                .contains("the journal has guest 5, domain id 1 on unit dmar0; the units have guest 8, domain id 9")
                .endsWith("kept the units'");
        assertThat(again.audit()).isEmpty();
    }

    @Test
    void aUnitTheJournalNamesThatArrivesLaterIsSizedByItselfNotByAGuess() {
        Fixture first = new Fixture();
        TestUnit dmar0 = new TestUnit("dmar0", 256, first.events).withDevices(0x18, 20);
        TestUnit dmar1 = new TestUnit("dmar1", 16, first.events).withDevices(0x3b, 4);
        AssignmentManager m = first.manager(Fixture.config("global", dir.toString()), List.of(dmar0, dmar1),
                new iommu.alloc.global.GlobalStrategy());
        m.attach(GuestId.guest(5), List.of(dmar1.deviceList().get(0)));

        // the next process starts before dmar1 is discovered: the journal names it, its size is unknown
        Fixture second = new Fixture();
        TestUnit newDmar0 = new TestUnit("dmar0", 256, second.events).withDevices(0x18, 20);
        AssignmentManager again = second.manager(Fixture.config("global", dir.toString()), List.of(newDmar0),
                new iommu.alloc.global.GlobalStrategy());
        assertThat(again.state().restored).isEqualTo(1);
        TestUnit newDmar1 = new TestUnit("dmar1", 16, second.events).withDevices(0x3b, 4);
        again.bindUnit(newDmar1);
        assertThat(newDmar1.context(dmar1.deviceList().get(0))).contains(new DeviceContext(DomainId.of(1), GuestId.guest(5)));
        // the global space is dmar1's 16 ids (15 usable), not the guess: 14 more guests fit, the next does not
        for (int g = 6; g < 20; g++) {
            again.attach(GuestId.guest(g), List.of(newDmar0.deviceList().get(g)));
        }
        assertThatThrownBy(() -> again.attach(GuestId.guest(20), List.of(newDmar0.deviceList().get(0))))
                .isInstanceOf(iommu.api.DomainIdsExhaustedException.class).hasMessageContaining("all 15 usable ids");
        assertThat(again.audit()).isEmpty();
    }

    @Test
    void anUnreadableStateDirectoryKeepsStateEphemeralAndSaysWhy() throws Exception {
        Files.writeString(dir.resolve(Journal.FILE), "garbage\n");
        Fixture f = new Fixture();
        TestUnit dmar0 = new TestUnit("dmar0", 256, f.events).withDevices(0x18, 2);
        AssignmentManager m = f.manager(Fixture.config("per-unit", dir.toString()), List.of(dmar0), new PerUnitStrategy());
        assertThat(m.state().directory).isNull();
        assertThat(m.state().problems).singleElement().asString().contains("not a journal of this platform");
    }
}
