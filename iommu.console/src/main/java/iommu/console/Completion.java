package iommu.console;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;

import iommu.api.DeviceAssignment;
import iommu.api.GuestId;
import iommu.api.dto.DeviceDTO;
import iommu.api.dto.GroupDTO;
import iommu.api.dto.GuestDTO;
import iommu.api.dto.UnitDTO;

/**
 * Tab completion of the {@code iommu} commands' arguments, from the platform
 * as it is now: unit ids, BDFs, guest ids, group numbers or strategy names, depending on the
 * command and the argument's position.
 */
final class Completion {

    private final IommuCommands commands;

    Completion(IommuCommands commands) {
        this.commands = commands;
    }

    /** A tab-completion candidate and what it is. */
    record Candidate(String value, String description) {
    }

    /** Options that take a value (their value is not a positional argument). */
    private static final Set<String> VALUED_OPTIONS = Set.of("--devices-per-guest");

    /**
     * Candidates for the next argument of an {@code iommu} command: unit ids,
     * BDFs, guest ids or strategy names, depending on the command and the
     * argument's position. Empty when nothing is known or a service is missing.
     *
     * @param function the command without scope, e.g. {@code attach}
     * @param typed the words typed after the command, before the one being completed
     */
    List<Candidate> candidates(String function, List<String> typed) {
        DeviceAssignment da = commands.assignment;
        int position = 0;
        for (int i = 0; i < typed.size(); i++) {
            String w = typed.get(i);
            if (w.startsWith("--")) {
                if (VALUED_OPTIONS.contains(w)) {
                    i++;
                }
                continue;
            }
            position++;
        }
        if (da == null) {
            return List.of();
        }
        try {
            return switch (function) {
                case "unit", "domains", "occupancy", "forget" -> position == 0 ? unitCandidates(da) : List.of();
                case "guest", "map", "unmap", "flush" -> position == 0 ? guestCandidates(da, false) : List.of();
                case "ctx", "translate" -> position == 0 ? deviceCandidates(da, typed, d -> true) : List.of();
                case "attach" -> position == 0 ? guestCandidates(da, true)
                        : deviceCandidates(da, typed, d -> d.guest == null);
                case "detach" -> deviceCandidates(da, typed, d -> d.guest != null);
                case "group" -> position == 0 ? groupCandidates(da) : List.of();
                case "strategy" -> position == 0 ? strategyCandidates() : List.of();
                default -> List.of();
            };
        } catch (RuntimeException e) {
            return List.of(); // a completion never fails the prompt
        }
    }

    private static List<Candidate> unitCandidates(DeviceAssignment da) {
        List<Candidate> out = new ArrayList<>();
        for (UnitDTO u : da.units()) {
            out.add(new Candidate(u.id, u.vendor + ", " + u.devices + " devices, " + u.usedDomainIds + "/" + u.domainIds
                    + " domain ids used"));
        }
        return out;
    }

    /** The group numbers, then the BDFs (a device stands for its group). */
    private static List<Candidate> groupCandidates(DeviceAssignment da) {
        List<Candidate> out = new ArrayList<>();
        for (GroupDTO g : da.groups()) {
            int n = g.devices == null ? 0 : g.devices.size();
            out.add(new Candidate(Integer.toString(g.group), g.unit + ", " + n + (n == 1 ? " device" : " devices")
                    + (g.guest == null ? ", host" : ", guest " + g.guest)));
        }
        out.addAll(deviceCandidates(da, List.of(), d -> true));
        return out;
    }

    private static List<Candidate> guestCandidates(DeviceAssignment da, boolean offerNew) {
        List<Candidate> out = new ArrayList<>();
        int max = 0;
        for (GuestDTO g : da.guests()) {
            int n = g.devices == null ? 0 : g.devices.size();
            out.add(new Candidate(Integer.toString(g.guest), "guest with " + n + (n == 1 ? " device" : " devices")));
            max = Math.max(max, g.guest);
        }
        if (offerNew && max < GuestId.MAX) {
            out.add(new Candidate(Integer.toString(max + 1), "a new guest"));
        }
        return out;
    }

    private static List<Candidate> deviceCandidates(DeviceAssignment da, List<String> typed,
            Predicate<DeviceDTO> which) {
        Set<String> already = new TreeSet<>();
        for (String t : typed) {
            already.add(t.toLowerCase());
        }
        List<Candidate> out = new ArrayList<>();
        for (DeviceDTO d : da.devices()) {
            if (which.test(d) && !already.contains(d.bdf.toLowerCase())) {
                out.add(new Candidate(d.bdf, d.unit + (d.guest == null ? ", host" : ", guest " + d.guest)
                        + (d.reservedMemory ? ", reserved memory" : "")));
            }
        }
        return out;
    }

    private List<Candidate> strategyCandidates() {
        List<Candidate> out = new ArrayList<>();
        Set<String> seen = new TreeSet<>();
        for (IommuCommands.StrategyService s : commands.strategyServices.get()) {
            if (seen.add(s.name())) {
                out.add(new Candidate(s.name(), CoreText.oneLine(s.service().description())));
            }
        }
        return out;
    }
}
