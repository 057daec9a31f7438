package iommu.api;

/**
 * How far a strategy swap's renumbering has come: the core tells every
 * {@link RenumberingListener} when it starts ({@code written} 0), about every
 * tenth of the way on long renumberings, and when the new entries are all
 * written ({@code written == entries}).
 *
 * @param strategy the strategy being bound
 * @param domainIds how many (guest, unit) domain ids change
 * @param written context entries written with their new id so far
 * @param entries context entries that move in all
 */
public record RenumberingProgress(String strategy, int domainIds, int written, int entries) {

    public RenumberingProgress {
        if (strategy == null || domainIds < 0 || entries < 0 || written < 0 || written > entries) {
            throw new IllegalArgumentException("renumbering progress out of range: strategy " + strategy + ", "
                    + domainIds + " domain ids, " + written + " of " + entries + " entries");
        }
    }

    /** Whether every entry that moves was written. */
    public boolean done() {
        return written == entries;
    }
}
