package iommu.console;

import iommu.api.Quoted;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

import iommu.api.dto.UnitDTO;

/**
 * Finds what a person typed among ids, as {@code scr:info} does: an exact
 * match wins, else a unique substring; several substrings are an error that
 * lists them.
 */
final class Matching {

    private Matching() {
    }

    /**
     * @param kind what is looked for, for the error ("unit", "guest")
     * @param typed what was typed
     * @param ids the ids present, in display order
     * @return the one id meant
     * @throws IllegalArgumentException when none or several match, listing the candidates
     */
    static String one(String kind, String typed, Collection<String> ids) {
        if (typed == null || typed.isBlank()) {
            throw new IllegalArgumentException("missing " + kind + " id: expected one of " + list(ids));
        }
        String t = typed.trim();
        for (String id : ids) {
            if (id.equals(t)) {
                return id;
            }
        }
        List<String> found = new ArrayList<>();
        for (String id : ids) {
            if (id.toLowerCase().contains(t.toLowerCase())) {
                found.add(id);
            }
        }
        if (found.size() == 1) {
            return found.get(0);
        }
        if (found.isEmpty()) {
            throw new IllegalArgumentException("no " + kind + " matches " + Quoted.of(t) + ": expected one of " + list(ids));
        }
        throw new IllegalArgumentException(kind + " " + Quoted.of(t) + " is ambiguous: it matches " + String.join(", ", found)
                + "; expected one of them");
    }

    /** The ids as an error lists them: all of them, or the first 12 and how many in all. */
    static String list(Collection<String> ids) {
        if (ids.isEmpty()) {
            return "(none present)";
        }
        if (ids.size() > 12) {
            return String.join(", ", new ArrayList<>(ids).subList(0, 12)) + ", ... (" + ids.size() + " in all)";
        }
        return String.join(", ", ids);
    }

    /** The unit meant by what was typed: its id exactly, else a unique part of one. */
    static UnitDTO unit(List<UnitDTO> units, String typed) {
        List<String> ids = units.stream().map(u -> u.id).toList();
        String id = Matching.one("unit", typed, ids);
        return units.stream().filter(u -> u.id.equals(id)).findFirst().orElseThrow();
    }
}
