package iommu.core;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

@ObjectClassDefinition(name = "IOMMU core", description = "Device assignment and the domain-id allocation strategy.")
public @interface CoreConfig {
    String PID = iommu.api.CoreConfiguration.PID;

    @AttributeDefinition(name = "Strategy",
            description = "Name of the allocation strategy to bind (the 'name' property of an AllocationStrategy service), e.g. per-unit or global.")
    String strategy() default "per-unit";

    @AttributeDefinition(name = "Wait for a strategy swap (ms)",
            description = "How long an attach or detach waits for a strategy swap or another operation in progress before it fails.",
            min = "1")
    long operationWaitMillis() default 30000;

    @AttributeDefinition(name = "State directory",
            description = "Directory of the journal that keeps assignments and mappings across restarts and crashes; empty keeps state in memory only.")
    String stateDirectory() default "";

    @AttributeDefinition(name = "Rebuild tables",
            description = "Rebuild the units' tables from the state directory's journal (the launcher's --rebuild-tables):"
                    + " a directory without a whole journal is refused, and where a unit's kept tables differ from the"
                    + " journal the journal wins. Set the VT-d platform's own property too, so that a refused table file"
                    + " is set aside (renamed) rather than refused.")
    boolean rebuildTables() default false;
}
