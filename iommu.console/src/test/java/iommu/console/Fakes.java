package iommu.console;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;

/**
 * Test doubles of the platform's interfaces, built as proxies over plain
 * objects: a call goes to the object's public method of the same name and
 * parameter types, else to the interface's default method, else fails. The
 * fakes so keep compiling when the API grows a method the console does not
 * use (the API is written by others at the same time).
 */
final class Fakes {

    private Fakes() {
    }

    static <T> T proxy(Class<T> type, Object impl) {
        InvocationHandler h = (proxy, method, args) -> {
            if (method.getDeclaringClass() == Object.class) {
                return switch (method.getName()) {
                    case "toString" -> "fake " + type.getSimpleName() + " over " + impl.getClass().getSimpleName();
                    case "hashCode" -> System.identityHashCode(proxy);
                    case "equals" -> proxy == args[0];
                    default -> throw new UnsupportedOperationException(method.getName());
                };
            }
            Method target;
            try {
                target = impl.getClass().getMethod(method.getName(), method.getParameterTypes());
            } catch (NoSuchMethodException e) {
                if (method.isDefault()) {
                    return InvocationHandler.invokeDefault(proxy, method, args);
                }
                throw new UnsupportedOperationException(type.getSimpleName() + "." + method.getName()
                        + " is not modelled by " + impl.getClass().getSimpleName());
            }
            try {
                target.setAccessible(true);
                return target.invoke(impl, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        };
        return type.cast(Proxy.newProxyInstance(Fakes.class.getClassLoader(), new Class<?>[] {type}, h));
    }

    /**
     * A strategy named {@code name}: capacity the smallest unit's usable ids under global, their sum otherwise;
     * {@code admits} with the models of the real global and per-unit strategies, the SPI's default for any other.
     */
    static iommu.api.spi.AllocationStrategy strategy(String name) {
        return proxy(iommu.api.spi.AllocationStrategy.class, new Object() {
            public String name() {
                return name;
            }

            public String description() {
                return name + " strategy";
            }

            public long capacity(java.util.Collection<iommu.api.spi.UnitDescriptor> units) {
                return name.equals("global") ? units.stream().mapToLong(iommu.api.spi.UnitDescriptor::usable).min().orElse(0)
                        : units.stream().mapToLong(iommu.api.spi.UnitDescriptor::usable).sum();
            }

            public iommu.api.spi.CapacityEstimate admits(java.util.Collection<iommu.api.spi.UnitLoad> units, int n) {
                long fit = iommu.api.spi.UnitLoad.fitSum(units, n);
                if (name.equals("per-unit")) {
                    return new iommu.api.spi.CapacityEstimate(units.stream().mapToLong(u -> u.admitsAlone(n)).sum(),
                            "sum over units of min(usable, floor(groups / " + n + "))");
                }
                long shared = capacity(units.stream().map(iommu.api.spi.UnitLoad::unit).toList());
                if (name.equals("global")) {
                    return new iommu.api.spi.CapacityEstimate(Math.min(shared, fit), "min(shared ids " + shared
                            + ", sum over units of floor(groups / " + n + ") = " + fit + ")");
                }
                return new iommu.api.spi.CapacityEstimate(Math.min(shared, fit), "min(its capacity() " + shared
                        + ", sum over units of floor(groups / " + n + ") = " + fit + ")");
            }
        });
    }
}
