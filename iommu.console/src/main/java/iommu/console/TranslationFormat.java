package iommu.console;

import iommu.console.dto.TranslationDTO;

/** {@code translate BDF IOVA}: one line, the host address or the fault. */
final class TranslationFormat extends Format<TranslationDTO> {

    TranslationFormat() {
        super(TranslationDTO.class);
    }

    @Override
    String text(TranslationDTO v) {
        String who = v.hostDomain ? "host domain, DID " + v.did
                : v.quarantined ? "quarantined, no context entry"
                : v.guest == null ? "host-owned, no context entry" : "guest " + v.guest + ", DID " + v.did;
        String head = v.bdf + " on " + v.unit + " (" + who + "): IOVA " + Numbers.hex(v.iova);
        if (v.fault != null && v.fault.reason == 0) {
            return head + " -> " + CoreText.oneLine(v.fault.description); // the interrupt address range
        }
        if (v.fault != null) {
            return head + " -> fault " + String.format("0x%x", v.fault.reason)
                    + (v.fault.description == null ? "" : ": " + CoreText.oneLine(v.fault.description));
        }
        return head + " -> host " + Numbers.hex(v.hostAddress);
    }
}
