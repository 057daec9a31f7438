package iommu.console;

import java.util.List;

import iommu.api.dto.GroupDTO;
import iommu.console.dto.GroupListDTO;

/** {@code groups}: the IOMMU groups, a row each: number, unit, requester id, owner and devices. */
final class GroupsFormat extends Format<GroupListDTO> {

    GroupsFormat() {
        super(GroupListDTO.class);
    }

    @Override
    String text(GroupListDTO v) {
        if (v.groups.isEmpty()) {
            return "no IOMMU group: no unit translates a device";
        }
        Table t = new Table("GROUP", "UNIT", "REQUESTER-ID", "GUEST", "DEVICES", "BDF").alignRight(0, 3, 4);
        for (GroupDTO g : v.groups) {
            List<String> devices = g.devices == null ? List.of() : g.devices;
            List<String> shown = devices.size() <= 3 ? devices : devices.subList(0, 3);
            t.row(g.group, g.unit, g.requesterId, g.quarantined ? "quarantined" : g.guest, devices.size(),
                    String.join(" ", shown) + (devices.size() > 3 ? " ..." : ""));
        }
        return t.render();
    }

    @Override
    String line(GroupListDTO v) {
        return v.groups.size() + " groups";
    }

    @Override
    Object json(GroupListDTO v) {
        return v.groups;
    }
}
