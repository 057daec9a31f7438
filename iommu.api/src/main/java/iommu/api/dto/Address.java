package iommu.api.dto;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a DTO field holding a physical or I/O virtual address: printed, in
 * tables and in JSON, as a {@code "0x..."} string rather than a number (a
 * 64-bit address does not survive a JSON reader's double).
 *
 * @since 1.1
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.FIELD)
public @interface Address {
}
