package iommu.console;

import java.util.List;

import iommu.api.dto.StateDTO;

/**
 * {@code state}: where state is kept, the units whose tables the last load
 * rebuilt from the journal (their refused files set aside), and each
 * disagreement the last recovery found.
 */
final class StateFormat extends Format<StateDTO> {

    StateFormat() {
        super(StateDTO.class);
    }

    @Override
    String text(StateDTO v) {
        List<String> problems = v.problems == null ? List.of() : v.problems;
        List<String> rebuilt = v.rebuilt == null ? List.of() : v.rebuilt;
        KeyValues kv = new KeyValues();
        if (v.directory == null) {
            kv.put("state", "ephemeral (no --state): nothing is kept after exit");
        } else {
            kv.put("state", "kept in " + v.directory + " (the core's journal; VT-d units' tables in vtd/)");
            kv.put("restored", v.restored + (v.restored == 1 ? " attachment" : " attachments")
                    + " written again from the journal");
            if (!rebuilt.isEmpty()) {
                kv.put("rebuilt", rebuilt.size() + (rebuilt.size() == 1 ? " unit's" : " units'")
                        + " tables from the journal (--rebuild-tables), the refused files set aside:");
            }
            kv.put("disagreements", problems.isEmpty() ? "none" : Integer.toString(problems.size()));
        }
        List<String> lines = new java.util.ArrayList<>(kv.render().lines().toList());
        // each rebuilt unit under its heading, as each disagreement is under its own
        int after = lines.size() - (v.directory == null ? 0 : 1);
        lines.addAll(after, rebuilt.stream().map(r -> "  " + CoreText.oneLine(r)).toList());
        StringBuilder b = new StringBuilder(String.join("\n", lines));
        for (String p : problems) {
            b.append("\n  ").append(CoreText.oneLine(p));
        }
        return b.toString();
    }
}
