package iommu.api.dto;

import java.util.List;

import org.osgi.dto.DTO;

/** Where the platform keeps its state and what its last recovery found. */
public class StateDTO extends DTO {
    /** The state directory; null when state is ephemeral. */
    public String directory;
    /** How many attachments were restored from the journal at the last load. */
    public int restored;
    /** One line per disagreement between the journal and the units found at the last load. */
    public List<String> problems;
    /**
     * One line per unit whose tables were rebuilt from the journal at the last
     * load, its refused table file set aside (1.2); empty otherwise.
     */
    public List<String> rebuilt;
}
