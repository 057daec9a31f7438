package iommu.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;

import org.junit.jupiter.api.Test;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

/**
 * Issue 14's acceptance through the launcher, on {@code platforms/pcie-to-pci-group.txt}: two
 * devices behind a PCIe-to-PCI bridge (their DMA reaches dmar0 as the
 * bridge's secondary bus, 00.0: Linux pci_for_each_dma_alias) and an SR-IOV
 * PF named by an endpoint scope, whose VFs no scope names.
 */
class GroupsIT {

    /** The platform file the README's tour runs too (the module's folder is the working directory). */
    final Path platform = Path.of("platforms", "pcie-to-pci-group.txt").toAbsolutePath();

    IommuJarIT.Run run(String commands) throws Exception {
        return IommuJarIT.run("--platform", platform.toString(), "-c", commands);
    }

    @Test
    void partOfAGroupIsRefusedNamingBothAndTheWholeGroupSharesOneDomainId() throws Exception {
        IommuJarIT.Run part = run("attach 1 0000:02:01.0");
        assertThat(part.exit()).isEqualTo(1);
        assertThat(part.err()).contains("0000:02:01.0", "0000:02:02.0", "attach --group 1 0000:02:01.0");

        IommuJarIT.Run whole = run("attach --group 1 0000:02:01.0; map 1 0x10000 0x4000000 4;"
                + " translate 0000:02:02.0 0x11000; translate 0000:02:01.0 0x11000; groups --json; verify");
        assertThat(whole.exit()).as("stderr: %s", whole.err()).isZero();
        assertThat(whole.out()).contains("guest 1: 2 devices on 1 unit (dmar0 DID 2)",
                "0000:02:02.0 on dmar0 (guest 1, DID 2): IOVA 0x11000 -> host 0x4001000",
                "0000:02:01.0 on dmar0 (guest 1, DID 2): IOVA 0x11000 -> host 0x4001000", "ok: ");
        JsonObject group = null;
        String json = whole.out().substring(whole.out().indexOf("\n[") + 1, whole.out().indexOf("\n]") + 2);
        for (JsonElement g : JsonParser.parseString(json).getAsJsonArray()) {
            if (g.getAsJsonObject().getAsJsonArray("devices").size() == 2) {
                group = g.getAsJsonObject();
            }
        }
        assertThat(group).isNotNull();
        assertThat(group.get("requesterId").getAsString()).isEqualTo("0000:02:00.0");
        assertThat(group.get("guest").getAsInt()).isEqualTo(1);
    }

    @Test
    void anotherGuestIsRefusedNamingTheOwnerAndDetachGroupFreesTheIdAfterTheFlush() throws Exception {
        IommuJarIT.Run other = run("attach --group 1 0000:02:01.0; attach 2 0000:02:02.0");
        assertThat(other.exit()).isEqualTo(1);
        assertThat(other.err()).contains("0000:02:02.0", "guest 1");

        IommuJarIT.Run detach = run("attach --group 1 0000:02:01.0; detach --group 0000:02:02.0; domains dmar0;"
                + " verify");
        assertThat(detach.exit()).as("stderr: %s", detach.err()).isZero();
        assertThat(detach.out()).contains("dmar0: 0 of 256 domain ids in use", "ok: ");
    }

    @Test
    void aVfOfAnEndpointScopedPfIsADeviceOfThePfsUnit() throws Exception {
        IommuJarIT.Run r = run("devices --json");
        assertThat(r.exit()).as("stderr: %s", r.err()).isZero();
        int vfs = 0;
        for (JsonElement d : JsonParser.parseString(r.out()).getAsJsonArray()) {
            String bdf = d.getAsJsonObject().get("bdf").getAsString();
            if (bdf.startsWith("0000:03:10.")) {
                assertThat(d.getAsJsonObject().get("unit").getAsString()).as(bdf).isEqualTo("dmar0");
                vfs++;
            }
        }
        assertThat(vfs).isEqualTo(2);
    }

    @Test
    void theInterruptWindowIsNoGuestMemory() throws Exception {
        IommuJarIT.Run r = run("attach 1 0000:00:1f.0; translate 0000:00:1f.0 0xfee00000; map 1 0xfee00000 0x4000000 1");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.out()).contains("IOVA 0xfee00000 -> interrupt address range");
        assertThat(r.err()).contains("cannot map IOVA 0xfee00000-0xfee00fff", "reserved region 0xfee00000-0xfeefffff");
    }
    /** A DMAR with an RMRR naming the USB controller 00:14.0 (0x7d000000-0x7d1fffff), from iommu.vtd's tests. */
    final Path rmrrPlatform = Path.of("..", "iommu.vtd", "src", "test", "resources", "dmar", "server-two-segments.txt")
            .toAbsolutePath().normalize();

    @Test
    void anRmrrDeviceAttachedWithTheOverrideReachesItsFirmwareMemoryAcrossARestartUntilDetached(
            @org.junit.jupiter.api.io.TempDir Path state) throws Exception {
        String[] base = {"--platform", rmrrPlatform.toString(), "--state", state.toString(), "-c"};
        IommuJarIT.Run refused = IommuJarIT.run(concat(base, "attach 1 0000:00:14.0"));
        assertThat(refused.exit()).isEqualTo(1);
        assertThat(refused.err()).contains("needs the reserved-memory override");
        IommuJarIT.Run attached = IommuJarIT.run(concat(base, "attach --allow-reserved-memory 1 0000:00:14.0;"
                + " translate 0000:00:14.0 0x7d001000"));
        assertThat(attached.exit()).as(attached.err()).isZero();
        assertThat(attached.out()).contains("IOVA 0x7d001000 -> host 0x7d001000");
        IommuJarIT.Run again = IommuJarIT.run(concat(base, "translate 0000:00:14.0 0x7d1ff000; verify;"
                + " unmap 1 0x7d000000 1"));
        assertThat(again.exit()).isEqualTo(1);
        assertThat(again.out()).contains("IOVA 0x7d1ff000 -> host 0x7d1ff000", "ok: ");
        assertThat(again.err()).contains("overlaps the identity map of 0x7d000000-0x7d1fffff (direct)");
        IommuJarIT.Run gone = IommuJarIT.run(concat(base, "detach 0000:00:14.0; attach 1 0000:02:00.0;"
                + " translate 0000:02:00.0 0x7d001000"));
        assertThat(gone.exit()).as("02:00.0 is in the RMRR too").isEqualTo(1);
        IommuJarIT.Run after = IommuJarIT.run(concat(base, "attach 1 0000:05:00.0; translate 0000:05:00.0 0x7d001000;"
                + " verify"));
        assertThat(after.exit()).as(after.err()).isZero();
        assertThat(after.out()).contains("IOVA 0x7d001000 -> fault");
    }

    private static String[] concat(String[] base, String commands) {
        String[] all = java.util.Arrays.copyOf(base, base.length + 1);
        all[base.length] = commands;
        return all;
    }
}
