package iommu.flush;

import java.lang.annotation.Annotation;
import java.util.Collection;

import org.osgi.service.log.Logger;

import iommu.api.DomainIdMap;
import iommu.api.spi.IommuUnit;

/** The benchmarks' door to the real flush service outside a framework: built and bound as SCR would. */
public final class FlushAccess {

    private FlushAccess() {
    }

    public static FlushServiceImpl flushService(DomainIdMap map, Logger log, Collection<? extends IommuUnit> units) {
        FlushConfig config = new FlushConfig() {
            @Override
            public Class<? extends Annotation> annotationType() {
                return FlushConfig.class;
            }

            @Override
            public long completionTimeoutMillis() {
                return 5_000;
            }
        };
        FlushServiceImpl flush = new FlushServiceImpl(map, log, config);
        units.forEach(flush::bindUnit);
        return flush;
    }
}
