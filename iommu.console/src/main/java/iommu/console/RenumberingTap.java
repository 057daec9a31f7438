package iommu.console;

import java.util.function.Consumer;

import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;

import iommu.api.RenumberingListener;
import iommu.api.RenumberingProgress;

/**
 * Shows how a strategy swap's renumbering progresses while the swap runs: a
 * {@link RenumberingListener} registered for the duration of
 * {@code iommu:strategy NAME}, whose reports become status lines. A no-op
 * without a bundle context (outside a framework).
 */
final class RenumberingTap implements RenumberingListener, AutoCloseable {

    private final Consumer<String> sink;
    private volatile ServiceRegistration<RenumberingListener> registration;

    private RenumberingTap(Consumer<String> sink) {
        this.sink = sink;
    }

    static RenumberingTap open(BundleContext context, Consumer<String> sink) {
        RenumberingTap tap = new RenumberingTap(sink);
        if (context != null) {
            try {
                tap.registration = context.registerService(RenumberingListener.class, tap, null);
            } catch (RuntimeException e) {
                // the bundle is stopping: the swap runs without progress lines
            }
        }
        return tap;
    }

    @Override
    public void progress(RenumberingProgress p) {
        sink.accept(status(p));
    }

    /** The status line of a report. */
    static String status(RenumberingProgress p) {
        if (p.written() == 0) {
            return "strategy " + p.strategy() + ": renumbering " + p.domainIds() + " domain ids over " + p.entries()
                    + " devices";
        }
        return "strategy " + p.strategy() + ": renumbering: " + p.written() + " of " + p.entries()
                + " context entries written";
    }

    @Override
    public void close() {
        ServiceRegistration<RenumberingListener> r = registration;
        registration = null;
        if (r != null) {
            try {
                r.unregister();
            } catch (IllegalStateException e) {
                // already gone with the bundle
            }
        }
    }
}
