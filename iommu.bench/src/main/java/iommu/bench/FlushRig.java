package iommu.bench;

import java.lang.annotation.Annotation;
import java.util.Collection;

import org.osgi.service.log.Logger;

import iommu.api.DomainIdMap;
import iommu.api.spi.IommuUnit;
import iommu.flush.FlushConfig;
import iommu.flush.FlushServiceImpl;

/**
 * The real flush service outside a framework (its public constructor and binds): built
 * and bound as SCR would, without a bundle context (so no registry lookup of
 * units it was not bound to; the benchmarks bind every unit first).
 */
public final class FlushRig {

    private FlushRig() {
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
        FlushServiceImpl flush = new FlushServiceImpl(null, map, log, config); // no registry to fall back on
        units.forEach(flush::bindUnit);
        return flush;
    }
}
