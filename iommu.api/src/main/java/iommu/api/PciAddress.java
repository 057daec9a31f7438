package iommu.api;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A PCI function address: segment, bus, device and function, written
 * {@code SSSS:BB:DD.F} in hexadecimal as Linux and Xen print it.
 *
 * <p>The 16-bit routing id (bus, device, function) is what an IOMMU sees as
 * the DMA source id.
 */
public record PciAddress(int segment, int bus, int device, int function) implements Comparable<PciAddress> {

    private static final Pattern FULL = Pattern.compile(
            "(?:([0-9a-fA-F]{1,4}):)?([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2})\\.([0-9a-fA-F])");

    public PciAddress {
        check("segment", segment, 0xFFFF);
        check("bus", bus, 0xFF);
        check("device", device, 0x1F);
        check("function", function, 0x7);
    }

    private static void check(String field, int value, int max) {
        if (value < 0 || value > max) {
            throw new IllegalArgumentException(String.format(
                    "PCI %s 0x%x out of range: expected 0x0..0x%x", field, value, max));
        }
    }

    /**
     * Parses {@code SSSS:BB:DD.F} (or {@code BB:DD.F} on segment 0), hexadecimal.
     *
     * @throws IllegalArgumentException naming what was wrong and what was expected
     */
    public static PciAddress parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("missing PCI address: expected SSSS:BB:DD.F, e.g. 0000:3b:00.1");
        }
        Matcher m = FULL.matcher(text.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException("malformed PCI address " + Quoted.of(text)
                    + ": expected SSSS:BB:DD.F in hexadecimal, e.g. 0000:3b:00.1");
        }
        int segment = m.group(1) == null ? 0 : Integer.parseInt(m.group(1), 16);
        int bus = Integer.parseInt(m.group(2), 16);
        int device = Integer.parseInt(m.group(3), 16);
        int function = Integer.parseInt(m.group(4), 16);
        if (device > 0x1F) {
            throw new IllegalArgumentException("malformed PCI address " + Quoted.of(text)
                    + ": device 0x" + Integer.toHexString(device) + " out of range, expected 00..1f");
        }
        if (function > 7) {
            throw new IllegalArgumentException("malformed PCI address " + Quoted.of(text)
                    + ": function " + function + " out of range, expected 0..7");
        }
        return new PciAddress(segment, bus, device, function);
    }

    /** The address with the given 16-bit routing id (bus << 8 | device << 3 | function). */
    public static PciAddress ofRoutingId(int segment, int routingId) {
        check("routing id", routingId, 0xFFFF);
        return new PciAddress(segment, routingId >>> 8, (routingId >>> 3) & 0x1F, routingId & 0x7);
    }

    /** Device and function as one byte, the index of the context entry in its bus's context table. */
    public int devfn() {
        return device << 3 | function;
    }

    /** The 16-bit routing id, the DMA source id an IOMMU sees. */
    public int routingId() {
        return bus << 8 | devfn();
    }

    @Override
    public int compareTo(PciAddress o) {
        int c = Integer.compare(segment, o.segment);
        return c != 0 ? c : Integer.compare(routingId(), o.routingId());
    }

    @Override
    public String toString() {
        return String.format("%04x:%02x:%02x.%x", segment, bus, device, function);
    }
}
