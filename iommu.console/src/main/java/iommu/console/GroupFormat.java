package iommu.console;

import java.util.List;

import iommu.api.dto.GroupDTO;

/** {@code group ID|BDF}: one IOMMU group, its unit, the requester id the unit sees, its owner and devices. */
final class GroupFormat extends Format<GroupDTO> {

    GroupFormat() {
        super(GroupDTO.class);
    }

    @Override
    String text(GroupDTO g) {
        List<String> devices = g.devices == null ? List.of() : g.devices;
        KeyValues kv = new KeyValues();
        kv.put("group", g.group);
        kv.put("unit", g.unit);
        kv.put("requester id", g.requesterId);
        kv.put("guest", g.quarantined ? "- (quarantined)" : g.guest == null ? "- (host)" : g.guest);
        kv.put("devices", devices.size() + (devices.isEmpty() ? "" : " (" + String.join(" ", devices) + ")"));
        return kv.render();
    }

    @Override
    String line(GroupDTO g) {
        int n = g.devices == null ? 0 : g.devices.size();
        return "group " + g.group + " (" + g.unit + ", " + n + (n == 1 ? " device, " : " devices, ")
                + (g.quarantined ? "quarantined" : g.guest == null ? "host" : "guest " + g.guest) + ")";
    }
}
