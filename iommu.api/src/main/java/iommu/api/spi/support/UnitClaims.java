package iommu.api.spi.support;

import java.util.Collection;
import java.util.Optional;
import java.util.function.Function;

import iommu.api.spi.ScopeMatch;

/**
 * The one rule for which unit translates a device: the strongest claim
 * (an endpoint scope naming it, else a bridge scope holding its bus, else the
 * segment's INCLUDE_PCI_ALL unit: Linux {@code dmar_find_matched_drhd_unit},
 * Xen {@code acpi_find_matched_drhd_unit}); between equal claims, the unit
 * whose id sorts first, so the answer never depends on the order in which
 * units were registered or bound.
 */
public final class UnitClaims {

    private UnitClaims() {
    }

    /**
     * Whether a claim {@code match} by {@code unitId} beats the claim
     * {@code held} by {@code holderId}; {@code held} may be {@code null} (or
     * {@link ScopeMatch#NONE}) for no claim. A non-claim never beats.
     */
    public static boolean beats(ScopeMatch match, String unitId, ScopeMatch held, String holderId) {
        if (match == null || !match.claims()) {
            return false;
        }
        if (held == null || !held.claims() || holderId == null) {
            return true;
        }
        int stronger = match.compareTo(held);
        return stronger > 0 || (stronger == 0 && unitId.compareTo(holderId) < 0);
    }

    /** The unit among {@code units} that translates the device by {@link #beats}, if any claims it. */
    public static <U> Optional<U> best(Collection<? extends U> units, Function<? super U, String> id,
            Function<? super U, ScopeMatch> claim) {
        U best = null;
        ScopeMatch bestMatch = null;
        for (U unit : units) {
            ScopeMatch match = claim.apply(unit);
            if (beats(match, id.apply(unit), bestMatch, best == null ? null : id.apply(best))) {
                best = unit;
                bestMatch = match;
            }
        }
        return Optional.ofNullable(best);
    }
}
