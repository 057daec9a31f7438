package iommu.api;

/**
 * A guest (domain) id as the hypervisor numbers guests: 1 to 32751. Id 0 is
 * the host: it owns every device not attached to a guest, in pass-through,
 * and consumes no domain id on any unit.
 */
public record GuestId(int value) implements Comparable<GuestId> {

    /** The host, owner of every unattached device. */
    public static final GuestId HOST = new GuestId(0);
    /** The highest guest id (Xen's DOMID_FIRST_RESERVED is 0x7FF0). */
    public static final int MAX = 32751;

    public GuestId {
        if (value < 0 || value > MAX) {
            throw new IllegalArgumentException("guest id " + value + " out of range: expected 0 (host) or 1.." + MAX);
        }
    }

    /** A guest that may own devices: 1..32751. */
    public static GuestId guest(int value) {
        if (value == 0) {
            throw new IllegalArgumentException("guest id 0 is the host: expected a guest id 1.." + MAX);
        }
        return new GuestId(value);
    }

    /**
     * Parses a decimal guest id 1..32751.
     *
     * @throws IllegalArgumentException naming what was wrong and what was expected
     */
    public static GuestId parse(String text) {
        if (text == null || !text.trim().matches("[0-9]{1,9}")) {
            throw new IllegalArgumentException("malformed guest id " + Quoted.of(text) + ": expected a decimal number 1.." + MAX);
        }
        return guest(Integer.parseInt(text.trim()));
    }

    public boolean isHost() {
        return value == 0;
    }

    @Override
    public int compareTo(GuestId o) {
        return Integer.compare(value, o.value);
    }

    @Override
    public String toString() {
        return Integer.toString(value);
    }
}
