package iommu.console;

import java.util.ArrayList;
import java.util.List;

import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.component.runtime.dto.ComponentConfigurationDTO;
import org.osgi.service.component.runtime.dto.ComponentDescriptionDTO;
import org.osgi.service.component.runtime.dto.UnsatisfiedReferenceDTO;

/**
 * Says why the platform did not come up: which of its components (bundles
 * {@code iommu.*}) are not active, and what they wait for, in one line.
 */
final class Diagnosis {

    private Diagnosis() {
    }

    /** The platform components that are not active and why, or empty when none is known. */
    static String inactiveComponents(BundleContext context) {
        try {
            return describe(context);
        } catch (NoClassDefFoundError | RuntimeException e) {
            return "";
        }
    }

    private static String describe(BundleContext context) {
        ServiceReference<ServiceComponentRuntime> ref = context.getServiceReference(ServiceComponentRuntime.class);
        if (ref == null) {
            return "no Service Component Runtime (expected bundle org.apache.felix.scr to be active)";
        }
        ServiceComponentRuntime scr = context.getService(ref);
        if (scr == null) {
            return "";
        }
        try {
            List<String> problems = new ArrayList<>();
            for (ComponentDescriptionDTO d : scr.getComponentDescriptionDTOs()) {
                if (d.bundle == null || d.bundle.symbolicName == null || !d.bundle.symbolicName.startsWith("iommu.")
                        || d.bundle.symbolicName.equals("iommu.console")) {
                    continue;
                }
                if (!scr.isComponentEnabled(d)) {
                    problems.add(d.name + " is disabled");
                    continue;
                }
                for (ComponentConfigurationDTO c : scr.getComponentConfigurationDTOs(d)) {
                    switch (c.state) {
                        case ComponentConfigurationDTO.UNSATISFIED_REFERENCE -> {
                            List<String> refs = new ArrayList<>();
                            for (UnsatisfiedReferenceDTO r : c.unsatisfiedReferences) {
                                refs.add(r.name + interfaceOf(d, r.name));
                            }
                            problems.add(d.name + " waits for " + String.join(", ", refs));
                        }
                        case ComponentConfigurationDTO.UNSATISFIED_CONFIGURATION ->
                            problems.add(d.name + " waits for its configuration " + String.join(", ", d.configurationPid));
                        case ComponentConfigurationDTO.FAILED_ACTIVATION ->
                            problems.add(d.name + " failed to activate: " + firstLine(c.failure));
                        default -> {
                            // satisfied or active: fine
                        }
                    }
                }
            }
            return String.join("; ", problems);
        } finally {
            context.ungetService(ref);
        }
    }

    private static String interfaceOf(ComponentDescriptionDTO d, String reference) {
        for (var r : d.references) {
            if (r.name.equals(reference)) {
                return " (" + r.interfaceName + ")";
            }
        }
        return "";
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "unknown failure";
        }
        int nl = s.indexOf('\n');
        return (nl < 0 ? s : s.substring(0, nl)).trim();
    }
}
