package iommu.api;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Whiteboard service told how a strategy swap's renumbering progresses (the
 * console shows it on long swaps). Called by the core while it holds its
 * lock, so an implementation returns at once and never calls back into
 * {@link DeviceAssignment}; what it throws is logged and ignored.
 */
@ConsumerType
public interface RenumberingListener {

    void progress(RenumberingProgress progress);
}
