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

    @AttributeDefinition(name = "Host domain",
            description = "The host's own domain on each unit, which every device no guest holds is in: linux (DID 1,"
                    + " Linux's FLPT_DEFAULT_DID), allocated (the lowest id free on each unit, as Xen's dom0 gets one),"
                    + " or none (no host domain: host-owned devices have no context entry, the seed patch's accounting).",
            options = {
                    @org.osgi.service.metatype.annotations.Option(label = "linux", value = "linux"),
                    @org.osgi.service.metatype.annotations.Option(label = "allocated", value = "allocated"),
                    @org.osgi.service.metatype.annotations.Option(label = "none", value = "none") })
    String hostDomain() default "linux";

    @AttributeDefinition(name = "Quarantine",
            description = "Where detach puts a guest's devices: none (back to the host domain at once) or basic (quarantine,"
                    + " as Xen's iommu=quarantine: no context entry, DMA faults, until iommu:release gives them back).",
            options = {
                    @org.osgi.service.metatype.annotations.Option(label = "none", value = "none"),
                    @org.osgi.service.metatype.annotations.Option(label = "basic", value = "basic") })
    String quarantine() default "none";

    @AttributeDefinition(name = "Rebuild tables",
            description = "Rebuild the units' tables from the state directory's journal (the launcher's --rebuild-tables):"
                    + " a directory without a whole journal is refused, and where a unit's kept tables differ from the"
                    + " journal the journal wins. Set the VT-d platform's own property too, so that a refused table file"
                    + " is set aside (renamed) rather than refused.")
    boolean rebuildTables() default false;
}
