package iommu.core;

import java.util.List;

import iommu.api.DomainId;
import iommu.api.FlushService;
import iommu.api.GuestId;
import iommu.api.InvalidationException;
import iommu.api.PciAddress;
import iommu.api.dto.FlushReportDTO;

/** Records every flush in the shared event list; can be told to fail. */
public class RecordingFlush implements FlushService {
    public final List<String> events;
    public volatile boolean failing;

    public RecordingFlush(List<String> events) {
        this.events = events;
    }

    private FlushReportDTO record(String what) {
        if (failing) {
            events.add("FAILED " + what);
            throw new InvalidationException("invalidation on unit test failed: injected");
        }
        events.add(what);
        FlushReportDTO report = new FlushReportDTO();
        report.invalidations = List.of();
        return report;
    }

    @Override
    public FlushReportDTO flushGuest(GuestId guest) {
        return record("flush guest " + guest);
    }

    @Override
    public FlushReportDTO flushPages(GuestId guest, long iova, long pages) {
        return record("flush pages " + guest);
    }

    @Override
    public FlushReportDTO flushDeviceContext(String unitId, PciAddress device, DomainId domainId, boolean newlyPresent) {
        return record(unitId + " flush " + device + " did " + domainId + (newlyPresent ? " new" : ""));
    }

    @Override
    public FlushReportDTO flushContextChanges(List<iommu.api.ContextChange> changes) {
        FlushReportDTO last = null;
        for (iommu.api.ContextChange c : changes) {
            last = flushDeviceContext(c.unitId(), c.device(), c.domainId(), c.newlyPresent());
        }
        if (last == null) {
            last = new FlushReportDTO();
            last.invalidations = List.of();
        }
        return last;
    }

    @Override
    public FlushReportDTO flushDomain(String unitId, DomainId domainId) {
        return record(unitId + " flush domain " + domainId);
    }
}
