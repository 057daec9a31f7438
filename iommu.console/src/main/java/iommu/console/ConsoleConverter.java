package iommu.console;

import org.apache.felix.service.command.Converter;
import org.osgi.service.component.annotations.Component;

import iommu.api.dto.DeviceDTO;
import iommu.api.dto.GuestDTO;
import iommu.api.dto.GuestDeviceDTO;
import iommu.api.dto.InvalidationDTO;
import iommu.api.dto.UnitDTO;

/**
 * The console's converter: it makes the commands' typed arguments from the
 * words typed ({@link DeviceArgument}, {@link GuestArgument}), and prints
 * what the {@code iommu} commands return, as Felix SCR's commands
 * have their DTOs printed: a result prints as its format's table or text, a
 * {@link Json} view as its JSON ({@link Formats}), and either on one line
 * inside a list; the platform's DTOs print on one line when a script lists
 * them ({@code ($g devices)}).
 */
@Component(property = "osgi.converter.classes=iommu.console.DeviceArgument,iommu.console.GuestArgument,"
        + "iommu.console.Json,iommu.console.dto.*,iommu.api.dto.StateDTO,iommu.api.dto.UnitDTO,iommu.api.dto.DeviceDTO,iommu.api.dto.GuestDTO,iommu.api.dto.GuestDeviceDTO,"
        + "iommu.api.dto.InvalidationDTO")
public class ConsoleConverter implements Converter {

    /** The commands' typed arguments, from the words typed: a device ({@code 0000:3b:00.1}) or a guest id. */
    @Override
    public Object convert(Class<?> desiredType, Object in) {
        if (!(in instanceof CharSequence) && !(in instanceof Number)) {
            return null;
        }
        String word = in.toString();
        if (desiredType == DeviceArgument.class) {
            return new DeviceArgument(word);
        }
        if (desiredType == GuestArgument.class) {
            return new GuestArgument(word);
        }
        return null;
    }

    @Override
    public CharSequence format(Object target, int level, Converter escape) {
        String line = Formats.line(target);
        if (line != null) {
            return level == INSPECT ? Formats.text(target) : line;
        }
        if (level == INSPECT) {
            return null; // Gogo's own inspection of a DTO's fields
        }
        if (target instanceof UnitDTO u) {
            return u.id + " (" + u.vendor + ", " + u.usedDomainIds + "/" + u.domainIds + " domain ids used, " + u.devices
                    + " devices)";
        }
        if (target instanceof DeviceDTO d) {
            return d.bdf + " on " + d.unit + ", " + (d.guest == null ? "host" : "guest " + d.guest)
                    + (d.reservedMemory ? ", reserved memory" : "");
        }
        if (target instanceof GuestDTO g) {
            return "guest " + g.guest + " (" + (g.devices == null ? 0 : g.devices.size()) + " devices)";
        }
        if (target instanceof GuestDeviceDTO d) {
            return d.bdf + " on " + d.unit + ", DID " + d.did;
        }
        if (target instanceof InvalidationDTO i) {
            return i.unit + " " + i.granularity + (i.did == null ? "" : " DID " + i.did)
                    + (i.bdf == null ? "" : " " + i.bdf)
                    + (i.iova == null ? "" : " IOVA " + Numbers.hex(i.iova) + " x" + i.pages);
        }
        return null;
    }
}
