package iommu.api.spi;

import java.util.Hashtable;

import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;

/**
 * A unit registered as an {@link IommuUnit} service with the platform's
 * standard properties ({@link IommuUnit#UNIT_ID}, {@link IommuUnit#VENDOR},
 * segment, register base, source), as every vendor bundle registers its
 * units. Closing it unregisters the service once; closing it while the
 * bundle stops (the framework took the service back already) is harmless.
 */
public final class UnitRegistration implements AutoCloseable {

    /** Service property: the unit's PCI segment. */
    public static final String SEGMENT = "unit.segment";
    /** Service property: the unit's register base, {@code 0x...}. */
    public static final String REGISTER_BASE = "unit.registerBase";
    /** Service property: where the unit was found (a file, a configuration). */
    public static final String SOURCE = "unit.source";

    private final ServiceRegistration<IommuUnit> registration;
    private boolean closed;

    private UnitRegistration(ServiceRegistration<IommuUnit> registration) {
        this.registration = registration;
    }

    /** Registers the unit through the vendor bundle's context. */
    public static UnitRegistration register(BundleContext context, IommuUnit unit, String source) {
        Hashtable<String, Object> properties = new Hashtable<>();
        properties.put(IommuUnit.UNIT_ID, unit.id());
        properties.put(IommuUnit.VENDOR, unit.vendor());
        properties.put(SEGMENT, unit.segment());
        properties.put(REGISTER_BASE, String.format("0x%x", unit.registerBase()));
        properties.put(SOURCE, source);
        properties.put("service.description", unit.vendor() + " unit " + unit);
        return new UnitRegistration(context.registerService(IommuUnit.class, unit, properties));
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            registration.unregister();
        } catch (IllegalStateException alreadyGone) {
            // the bundle is stopping and the framework took the service back already
        }
    }
}
