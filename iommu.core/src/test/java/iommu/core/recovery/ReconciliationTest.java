package iommu.core.recovery;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import iommu.api.DomainId;
import iommu.api.GuestId;
import iommu.api.PciAddress;
import iommu.api.spi.DeviceContext;
import iommu.api.spi.UnitDescriptor;
import iommu.core.Fixture;
import iommu.core.RecordingFlush;
import iommu.core.TestUnit;
import iommu.core.assign.Attachment;
import iommu.core.assign.Attachments;
import iommu.core.assign.DomainIdTable;
import iommu.core.assign.GuestPages;
import iommu.core.assign.Topology;

/** Recovery returns what it found as values: restored attachments and each disagreement. */
class ReconciliationTest {

    private final List<String> events = new ArrayList<>();
    private final DomainIdTable table = new DomainIdTable();
    private final Topology topology = new Topology();
    private final Attachments attachments = new Attachments();
    private final GuestPages pages = new GuestPages();
    private final TestUnit dmar0 = new TestUnit("dmar0", 16, events).withDevices(0x18, 4);
    private final Reconciliation reconciliation = new Reconciliation(table, new RecordingFlush(events), topology,
            attachments, pages);
    private final PciAddress a = dmar0.deviceList().get(0);
    private final PciAddress b = dmar0.deviceList().get(1);

    ReconciliationTest() {
        topology.add(dmar0);
        topology.describe(UnitDescriptor.of(dmar0));
    }

    private static Journal.State journal(Attachment... attachments) {
        Journal.State s = new Journal.State();
        for (Attachment x : attachments) {
            s.attachments.put(x.device(), x);
        }
        return s;
    }

    @Test
    void anAttachmentTheUnitsLostIsRestoredAndWrittenOnTheUnit() {
        Attachment j = new Attachment(a, GuestId.guest(3), "dmar0", DomainId.of(5));
        Reconciliation.Result r = reconciliation.reconcile(journal(j));
        assertThat(r.restored()).isEqualTo(1);
        assertThat(r.problems()).isEmpty();
        assertThat(dmar0.contexts).containsEntry(a, new DeviceContext(DomainId.of(5), GuestId.guest(3)));
        assertThat(table.domainId(GuestId.guest(3), "dmar0")).contains(DomainId.of(5));
    }

    @Test
    void eachDisagreementIsReportedAndTheUnitsWinWhereTheyHoldTheId() {
        attachments.record(new Attachment(a, GuestId.guest(3), "dmar0", DomainId.of(5)));
        table.put(GuestId.guest(3), "dmar0", DomainId.of(5));
        Reconciliation.Result r = reconciliation.reconcile(journal(
                new Attachment(a, GuestId.guest(4), "dmar0", DomainId.of(6)),
                new Attachment(b, GuestId.guest(9), "dmar0", DomainId.of(5))));
        assertThat(r.restored()).isZero();
        assertThat(r.problems()).containsExactly(
                "device " + a + ": the journal has guest 4, domain id 6 on unit dmar0; the units have guest 3,"
                        + " domain id 5 on unit dmar0; kept the units'",
                "device " + b + ": the journal gives it guest 9 with domain id 5 on unit dmar0, which the units give"
                        + " otherwise; not restored");
        assertThat(attachments.contains(b)).isFalse();
    }

    @Test
    void anAttachmentTheJournalLacksIsKeptAndReported() {
        attachments.record(new Attachment(a, GuestId.guest(3), "dmar0", DomainId.of(5)));
        assertThat(reconciliation.reconcile(journal()).problems()).containsExactly("device " + a
                + " is attached to guest 3 (domain id 5 on unit dmar0) but the journal does not have it; kept");
    }

    @Test
    void aUnitTheJournalNamesButThatIsAbsentGetsNoInventedDescriptor() {
        Attachment j = new Attachment(a, GuestId.guest(3), "dmar7", DomainId.of(5));
        assertThat(reconciliation.reconcile(journal(j)).restored()).isEqualTo(1);
        assertThat(topology.descriptor("dmar7")).isNull();
    }

    @Test
    void theStoreIsDurableOnlyWithAStateDirectory(@TempDir Path dir) {
        StateStore store = new StateStore(attachments, pages, reconciliation, Fixture.silentLogger(), null, null, null,
                Storage.FILES);
        assertThat(store.open("", true, false)).isFalse();
        assertThat(store.durable()).isFalse();
        store.attached(List.of(new Attachment(a, GuestId.guest(3), "dmar0", DomainId.of(5)))); // nowhere
        assertThat(store.report().directory).isNull();
        store.open(dir.toString(), false, false);
        assertThat(store.durable()).isTrue();
        store.attached(List.of(new Attachment(a, GuestId.guest(3), "dmar0", DomainId.of(5))));
        store.unitProblems(List.of("unit dmar0: something"));
        assertThat(store.report().directory).isEqualTo(dir.toString());
        assertThat(store.report().problems).containsExactly("unit dmar0: something");
        assertThat(Journal.read(dir).attachments).containsKey(a);
        store.deactivate();
        assertThat(store.durable()).isFalse();
    }
}
