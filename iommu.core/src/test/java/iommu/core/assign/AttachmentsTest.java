package iommu.core.assign;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

import iommu.api.DomainId;
import iommu.api.GuestId;
import iommu.api.PciAddress;

class AttachmentsTest {

    private static final PciAddress A = PciAddress.parse("0000:18:00.0");
    private static final PciAddress B = PciAddress.parse("0000:18:00.1");
    private static final PciAddress C = PciAddress.parse("0000:3b:00.0");
    private final Attachments attachments = new Attachments();

    @Test
    void theThreeViewsChangeTogether() {
        attachments.record(new Attachment(A, GuestId.guest(1), "dmar0", DomainId.of(1)));
        attachments.record(new Attachment(B, GuestId.guest(1), "dmar0", DomainId.of(1)));
        attachments.record(new Attachment(C, GuestId.guest(1), "dmar1", DomainId.of(4)));
        assertThat(attachments.onUnit("dmar0")).containsExactly(A, B);
        assertThat(attachments.of(GuestId.guest(1)).keySet()).containsExactly("dmar0", "dmar1");
        assertThat(attachments.of(GuestId.guest(1), "dmar1")).containsExactly(C);

        attachments.forget(C);
        assertThat(attachments.onUnit("dmar1")).isEmpty();
        assertThat(attachments.of(GuestId.guest(1)).keySet()).containsExactly("dmar0");
        attachments.forget(A);
        attachments.forget(B);
        assertThat(attachments.guests()).isEmpty();
        assertThat(attachments.size()).isZero();
        attachments.forget(B); // twice: nothing to do
    }

    @Test
    void aRenumberingKeepsTheUnitAndGuest() {
        attachments.record(new Attachment(A, GuestId.guest(1), "dmar0", DomainId.of(1)));
        attachments.renumber(new Attachment(A, GuestId.guest(1), "dmar0", DomainId.of(7)));
        assertThat(attachments.get(A).domainId()).isEqualTo(DomainId.of(7));
        assertThatThrownBy(() -> attachments.renumber(new Attachment(A, GuestId.guest(2), "dmar0", DomainId.of(7))))
                .isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> attachments.renumber(new Attachment(B, GuestId.guest(1), "dmar0", DomainId.of(7))))
                .isInstanceOf(IllegalStateException.class);
    }
}
