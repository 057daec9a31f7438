package iommu.flush;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

@ObjectClassDefinition(name = "IOMMU flush", description = "How long to wait for invalidations.")
public @interface FlushConfig {
    String PID = "iommu.flush";

    @AttributeDefinition(name = "Completion timeout (ms)",
            description = "How long to wait for a unit to report a batch of invalidations complete before the operation fails.",
            min = "1")
    long completionTimeoutMillis() default 5000;
}
