package iommu.app;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * Issue 15's host domain through the launcher, on the default platform: a
 * host-owned device's DMA reaches the identity address, the guest's mapping
 * while it is attached, the identity address again once detached; the host's
 * DID is counted (254 guests under global), and {@code --host-domain none}
 * is the seed's accounting (255, host-owned DMA faults).
 */
class HostDomainIT {

    @Test
    void attachAndDetachMoveADeviceBetweenTheHostDomainAndTheGuest() throws Exception {
        IommuJarIT.Run r = IommuJarIT.run("-c", "translate 0000:18:10.0 0x7f001000; attach 1 0000:18:10.0;"
                + " map 1 0x7f000000 0x4000000 4; translate 0000:18:10.0 0x7f001000; detach 0000:18:10.0;"
                + " translate 0000:18:10.0 0x7f001000; domains dmar0; verify; ctx 0000:3b:00.2");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).containsSubsequence(
                "0000:18:10.0 on dmar0 (host domain, DID 1): IOVA 0x7f001000 -> host 0x7f001000",
                "guest 1: 1 device on 1 unit (dmar0 DID 2)",
                "0000:18:10.0 on dmar0 (guest 1, DID 2): IOVA 0x7f001000 -> host 0x4001000",
                "0000:18:10.0 on dmar0 (host domain, DID 1): IOVA 0x7f001000 -> host 0x7f001000",
                "dmar0: 0 of 256 domain ids in use (reserved: 0,1; host domain: DID 1)", "ok: ");
        assertThat(r.out()).containsPattern("\\n  TT +2\\n");
    }

    @Test
    void theHostIdIsCountedAndNoneIsTheSeedsAccounting() throws Exception {
        IommuJarIT.Run linux = IommuJarIT.run("-c", "strategy global; capacity --json");
        assertThat(linux.exit()).as(linux.err()).isZero();
        assertThat(linux.out().replaceAll("\\s", "")).contains("{\"strategy\":\"global\",\"admits\":254");
        IommuJarIT.Run none = IommuJarIT.run("--host-domain", "none", "-c",
                "strategy global; capacity --json; translate 0000:18:10.0 0x1000");
        assertThat(none.exit()).as(none.err()).isZero();
        assertThat(none.out().replaceAll("\\s", "")).contains("{\"strategy\":\"global\",\"admits\":255");
        assertThat(none.out()).contains("(host-owned, no context entry): IOVA 0x1000 -> fault 0x");
        IommuJarIT.Run allocated = IommuJarIT.run("--host-domain", "allocated", "-c", "units --json");
        assertThat(allocated.out().replaceAll("\\s", "")).contains("\"reserved\":[0,1],\"hostDomainId\":1");
    }
}
