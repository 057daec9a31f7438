package iommu.core.assign;

import java.util.Collection;
import java.util.List;
import java.util.Map;

import iommu.api.GuestId;
import iommu.api.PciAddress;

/**
 * Where the operations record what they did before they acknowledge it (the
 * journal, when state is kept; nowhere when it is ephemeral). Each call is one
 * durable write: when it returns, the records survive a crash.
 */
public interface Recorder {

    void attached(Collection<Attachment> attachments);

    void detached(Collection<PciAddress> devices);

    void mapped(GuestId guest, List<GuestMappings.Run> runs);

    void unmapped(GuestId guest, long iova, long pages);

    /** Whether records outlive the process (a state directory), not only the component. */
    boolean durable();

    /**
     * Attachments and the identity maps of firmware memory they brought, as
     * one durable write with the attachments first: a write torn between them
     * leaves maps that recovery restores ({@link IdentityMaps}), never maps
     * without their device.
     */
    default void attached(Collection<Attachment> attachments, GuestId guest, List<GuestMappings.Run> identityMaps) {
        attached(attachments);
        if (!identityMaps.isEmpty()) {
            mapped(guest, identityMaps);
        }
    }

    /**
     * Identity maps the detached devices no longer need, the detachments,
     * then the devices put in quarantine (with their units), as one durable
     * write in that order.
     */
    default void detached(Collection<PciAddress> devices, Map<GuestId, List<GuestMappings.Run>> identityUnmapped,
            Map<PciAddress, String> quarantined) {
        identityUnmapped.forEach((guest, runs) -> runs.forEach(r -> unmapped(guest, r.iova(), r.pages())));
        detached(devices);
        if (!quarantined.isEmpty()) {
            this.quarantined(quarantined);
        }
    }

    /** Devices put in quarantine, each with its unit. */
    default void quarantined(Map<PciAddress, String> devices) {
    }

    /** Quarantined devices given back to the host. */
    default void released(Collection<PciAddress> devices) {
    }

    /**
     * The map just recorded failed on a unit and was rolled back: its record
     * goes. By default an unmap is recorded; a journal may take the record
     * back instead (on a full disk a record undoing it might not fit).
     */
    default void mapUndone(GuestId guest, long iova, long pages) {
        unmapped(guest, iova, pages);
    }

    default void mapped(GuestId guest, long iova, long hostAddress, long pages) {
        mapped(guest, List.of(new GuestMappings.Run(iova >>> 12, hostAddress >>> 12, pages)));
    }

    /** Records nothing: state is ephemeral. */
    Recorder NONE = new Recorder() {
        @Override public void attached(Collection<Attachment> attachments) { }
        @Override public void detached(Collection<PciAddress> devices) { }
        @Override public void mapped(GuestId guest, List<GuestMappings.Run> runs) { }
        @Override public void unmapped(GuestId guest, long iova, long pages) { }
        @Override public boolean durable() { return false; }
    };
}
