package iommu.api.spi;

import iommu.api.IommuException;

/** A strategy cannot hold the current assignments; the platform keeps the strategy it had. */
public class StrategyRefusedException extends IommuException {
    private static final long serialVersionUID = 1L;

    public StrategyRefusedException(String message) {
        super(message);
    }
}
