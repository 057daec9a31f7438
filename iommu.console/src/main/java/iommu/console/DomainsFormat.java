package iommu.console;

import java.util.List;

import iommu.console.dto.DomainDTO;
import iommu.console.dto.UnitDomainsDTO;

/** {@code domains UNIT}: domain id, guest and its devices there, a row each. */
final class DomainsFormat extends Format<UnitDomainsDTO> {

    DomainsFormat() {
        super(UnitDomainsDTO.class);
    }

    @Override
    String text(UnitDomainsDTO v) {
        StringBuilder sb = new StringBuilder();
        sb.append(v.unit).append(": ").append(v.domains.size()).append(" of ").append(v.domainIds)
                .append(" domain ids in use (reserved: ").append(KeyValues.ints(v.reserved))
                .append(v.hostDomainId == null ? "" : "; host domain: DID " + v.hostDomainId).append(")");
        if (v.domains.isEmpty()) {
            return sb.toString();
        }
        Table t = new Table("DID", "GUEST", "DEVICES", "BDF").alignRight(0, 1, 2);
        for (DomainDTO r : v.domains) {
            List<String> shown = r.devices.size() <= 3 ? r.devices : r.devices.subList(0, 3);
            t.row(r.did, r.guest, r.devices.size(), String.join(" ", shown) + (r.devices.size() > 3 ? " ..." : ""));
        }
        return sb.append('\n').append(t.render()).toString();
    }
}
