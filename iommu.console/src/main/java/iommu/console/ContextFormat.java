package iommu.console;

import iommu.console.dto.ContextEntryDTO;

/** {@code ctx BDF}: the device and the requester id its unit sees, then its context entry decoded by its unit. */
final class ContextFormat extends Format<ContextEntryDTO> {

    ContextFormat() {
        super(ContextEntryDTO.class);
    }

    @Override
    String text(ContextEntryDTO v) {
        KeyValues kv = new KeyValues();
        kv.put("device", v.bdf);
        kv.put("unit", v.unit);
        kv.put("guest", v.guest == null ? "- (host)" : v.guest);
        kv.put("requester id", v.requesterId == null ? "- (the unit does not claim the device)" : v.requesterId);
        StringBuilder sb = new StringBuilder(kv.render()).append("\ncontext entry (IommuUnit.describeContext):\n");
        KeyValues c = new KeyValues("  ");
        v.context.forEach(c::put);
        sb.append(v.context.isEmpty() ? "  (the unit does not translate this device)" : c.render());
        return sb.toString();
    }
}
