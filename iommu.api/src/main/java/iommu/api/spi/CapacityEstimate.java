package iommu.api.spi;

import java.util.Objects;

/**
 * What a strategy admits in the planner's question and how it got there, in
 * one line with the numbers ({@link AllocationStrategy#admits}).
 *
 * @since 1.2
 */
public record CapacityEstimate(long admits, String model) {

    public CapacityEstimate {
        Objects.requireNonNull(model, "model");
        if (admits < 0) {
            throw new IllegalArgumentException("admits " + admits + " out of range: expected 0 or more");
        }
    }
}
