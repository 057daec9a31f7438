package iommu.console;

import java.util.List;

import iommu.api.dto.StateDTO;

/** {@code state}: where state is kept and each disagreement the last recovery found. */
final class StateFormat extends Format<StateDTO> {

    StateFormat() {
        super(StateDTO.class);
    }

    @Override
    String text(StateDTO v) {
        List<String> problems = v.problems == null ? List.of() : v.problems;
        KeyValues kv = new KeyValues();
        if (v.directory == null) {
            kv.put("state", "ephemeral (no --state): nothing is kept after exit");
        } else {
            kv.put("state", "kept in " + v.directory + " (the core's journal; VT-d units' tables in vtd/)");
            kv.put("restored", v.restored + (v.restored == 1 ? " attachment" : " attachments")
                    + " written again from the journal");
            kv.put("disagreements", problems.isEmpty() ? "none" : Integer.toString(problems.size()));
        }
        StringBuilder b = new StringBuilder(kv.render());
        for (String p : problems) {
            b.append("\n  ").append(CoreText.oneLine(p));
        }
        return b.toString();
    }
}
