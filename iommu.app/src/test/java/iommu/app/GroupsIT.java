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
        assertThat(whole.out()).contains("guest 1: 2 devices on 1 unit (dmar0 DID 1)",
                "0000:02:02.0 on dmar0 (guest 1, DID 1): IOVA 0x11000 -> host 0x4001000",
                "0000:02:01.0 on dmar0 (guest 1, DID 1): IOVA 0x11000 -> host 0x4001000", "ok: ");
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
}
