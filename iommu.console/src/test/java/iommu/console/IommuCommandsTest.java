package iommu.console;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import iommu.api.FlushService;
import iommu.api.GuestId;
import iommu.api.IommuException;
import iommu.api.dto.FlushReportDTO;
import iommu.console.dto.DetachedDTO;
import iommu.console.dto.DeviceListDTO;
import iommu.console.dto.GuestDetailDTO;
import iommu.console.dto.TranslationDTO;
import iommu.console.dto.UnitDetailDTO;
import iommu.console.dto.UnitListDTO;

/**
 * Every command on the fake two-unit platform: its success, its {@code --json}
 * shape and its one-line errors for bad arguments.
 */
class IommuCommandsTest {

    private final FakeAssignment da = new FakeAssignment();
    private final IommuCommands cmd = new IommuCommands();
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private final List<String> forgotten = new ArrayList<>();

    @TempDir
    Path dir;

    IommuCommandsTest() {
        cmd.assignment = da.api();
        cmd.domainIdMap = da.map();
        cmd.flushService = Fakes.proxy(FlushService.class, new FakeFlush());
        cmd.unitServices = List.of(da.unit("dmar0"), da.unit("dmar1"));
        cmd.strategyServices = () -> List.of(
                new IommuCommands.StrategyService("global", "iommu.alloc.global", 0, Fakes.strategy("global")),
                new IommuCommands.StrategyService("per-unit", "iommu.alloc.perunit", 0, Fakes.strategy("per-unit")));
        cmd.discoveryServices = () -> List.of(da.discovery(forgotten));
        cmd.err = () -> new PrintStream(err, true, StandardCharsets.UTF_8);
    }

    // ------------------------------------------------------------ fakes

    public class FakeFlush {
        public FlushReportDTO flushGuest(GuestId guest) {
            return report(guest, "domain", null, null);
        }

        public FlushReportDTO flushPages(GuestId guest, long iova, long pages) {
            return report(guest, "pages", iova, pages);
        }

        private FlushReportDTO report(GuestId guest, String granularity, Long iova, Long pages) {
            return da.flushReport(guest, granularity, iova, pages);
        }
    }

    private static JsonElement json(Object result) {
        assertThat(result).isInstanceOf(Json.class);
        return JsonParser.parseString(Formats.text(result));
    }

    /** A guest id as the console's converter makes it from the word typed. */
    static GuestArgument g(String typed) {
        return new GuestArgument(typed);
    }

    /** A device as the console's converter makes it from the word typed. */
    static DeviceArgument d(String typed) {
        return new DeviceArgument(typed);
    }

    /** What the shell prints for a result: its format's text (or the string a command returned). */
    static String text(Object result) {
        return result instanceof String s ? s : Formats.text(result);
    }

    // ------------------------------------------------------------ listings

    @Test
    void listingsPrintTablesOrJson() {
        assertThat(text(cmd.units(false))).startsWith("UNIT");
        assertThat(json(cmd.units(true)).getAsJsonArray()).hasSize(2);
        assertThat(text(cmd.devices(false))).startsWith("BDF");
        assertThat(text(cmd.guests(false))).isEqualTo("no guest holds a device");
        assertThat(text(cmd.guests(true))).isEqualTo("[]");
    }

    @Test
    void listingsAreObjectsAScriptCanRead() {
        UnitListDTO units = (UnitListDTO) cmd.units(false);
        assertThat(units.units).extracting(u -> u.id).containsExactly("dmar0", "dmar1");
        assertThat(Formats.line(units)).isEqualTo("2 units");
        assertThat(((DeviceListDTO) cmd.devices(false)).devices).hasSize(8);
    }

    @Test
    void devicesShowReservedMemory() {
        JsonArray devices = json(cmd.devices(true)).getAsJsonArray();
        JsonObject last = devices.get(7).getAsJsonObject();
        assertThat(last.keySet()).containsExactly("bdf", "unit", "guest", "reservedMemory", "group", "quarantined",
                "ats");
        assertThat(last.get("ats").getAsBoolean()).isFalse();
        assertThat(last.get("group").getAsInt()).isEqualTo(7);
        assertThat(last.get("bdf").getAsString()).isEqualTo("0000:5e:00.3");
        assertThat(last.get("reservedMemory").getAsBoolean()).isTrue();
        assertThat(text(cmd.devices(false))).contains("RESERVED-MEM").containsPattern("0000:5e:00\\.3\\s+dmar1\\s+-\\s+yes");
    }

    // ------------------------------------------------------------ unit, guest

    @Test
    void unitShowsDecodedRegistersAndUsage() {
        cmd.attach(false, false, g("4"), d("0000:3b:00.1"));
        String text = text(cmd.unit(false, "dmar0"));
        assertThat(text).contains("unit             dmar0", "domain ids       256 (1 used, 1 reserved: 0, 254 free)",
                "devices          4 (1 attached)", "guests           4", "CAP.ND  2", "CAP.CM  false");
    }

    @Test
    void unitIsMatchedExactlyThenAsAUniqueSubstring() {
        assertThat(((UnitDetailDTO) cmd.unit(false, "1")).id).isEqualTo("dmar1");
        assertThat(((UnitDetailDTO) cmd.unit(false, "dmar0")).id).isEqualTo("dmar0");
        assertThatThrownBy(() -> cmd.unit(false, "dmar"))
                .hasMessage("unit 'dmar' is ambiguous: it matches dmar0, dmar1; expected one of them");
        assertThatThrownBy(() -> cmd.unit(false, "x"))
                .hasMessage("no unit matches 'x': expected one of dmar0, dmar1");
    }

    @Test
    void unitJsonHasTheContractFields() {
        JsonObject u = json(cmd.unit(true, "dmar1")).getAsJsonObject();
        assertThat(u.keySet()).containsExactly("id", "vendor", "segment", "registerBase", "includePciAll", "domainIds",
                "reserved", "usedDomainIds", "freeDomainIds", "devices", "attachedDevices", "guests", "decoded");
        assertThat(u.get("registerBase").getAsString()).isEqualTo("0xfed91000");
        assertThat(u.get("freeDomainIds").getAsInt()).isEqualTo(255);
        assertThat(u.get("decoded").getAsJsonObject().get("CAP.ND").getAsInt()).isEqualTo(2);
    }

    @Test
    void guestShowsDevicesAndItsDomainIdPerUnit() {
        cmd.attach(false, false, g("12"), d("0000:3b:00.1"), d("0000:5e:00.0"));
        cmd.attach(false, false, g("31"), d("0000:3b:00.2"));
        String text = text(cmd.guest(false, "12"));
        assertThat(text).startsWith("guest 12: 2 devices on 2 units (dmar0 DID 1, dmar1 DID 1)\nGUEST")
                .contains("0000:3b:00.1", "0000:5e:00.0");
        JsonObject g = json(cmd.guest(true, "31")).getAsJsonObject();
        assertThat(g.keySet()).containsExactly("guest", "devices", "dids");
        assertThat(g.get("dids").getAsJsonObject().get("dmar0").getAsInt()).isEqualTo(2);
        assertThat(g.get("devices").getAsJsonArray().get(0).getAsJsonObject().keySet())
                .containsExactly("bdf", "unit", "did");
        // substring: "3" is unique (31), "1" is not (12, 31)
        assertThat(((GuestDetailDTO) cmd.guest(false, "3")).guest).isEqualTo(31);
        assertThatThrownBy(() -> cmd.guest(false, "1"))
                .hasMessage("guest '1' is ambiguous: it matches 12, 31; expected one of them");
        assertThatThrownBy(() -> cmd.guest(false, "7")).hasMessage("no guest matches '7': expected one of 12, 31");
        assertThatThrownBy(() -> cmd.guest(false, "x")).hasMessageContaining("malformed guest id 'x'");
    }

    @Test
    void guestWithoutGuestsSaysSo() {
        assertThatThrownBy(() -> cmd.guest(false, "1")).hasMessageContaining("no guest holds a device");
    }

    // ------------------------------------------------------------ attach, detach

    @Test
    void attachPrintsTheGuestsDevicesWithDids() {
        String out = text(cmd.attach(false, false, g("4"), d("0000:3b:00.1"), d("5e:00.0")));
        assertThat(out.split("\n")).hasSize(4);
        assertThat(out).contains("0000:3b:00.1", "dmar0", "0000:5e:00.0", "dmar1");
    }

    @Test
    void attachOfReservedMemoryNeedsTheOverride() {
        assertThatThrownBy(() -> cmd.attach(false, false, g("4"), d("0000:5e:00.3")))
                .isInstanceOf(IommuException.class).hasMessageContaining("reserved-memory override");
        assertThat(cmd.attach(true, false, g("4"), d("0000:5e:00.3")).devices).hasSize(1);
    }

    @Test
    void detachReportsWhatItDetached() {
        cmd.attach(false, false, g("4"), d("0000:3b:00.1"));
        String out = text(cmd.detach(false, d("0000:3b:00.1")));
        assertThat(out).startsWith("detached\n").contains("0000:3b:00.1", "dmar0");
        assertThat(da.owner).isEmpty();
    }

    @Test
    void badArgumentsAreOneLineErrorsAndChangeNothing() {
        assertThatThrownBy(() -> cmd.attach(false, false, g("0"), d("0000:3b:00.1")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("host");
        assertThatThrownBy(() -> cmd.attach(false, false, g("x"), d("0000:3b:00.1")))
                .hasMessageContaining("malformed guest id 'x'");
        assertThatThrownBy(() -> cmd.attach(false, false, g("1"), d("0000:3b:00.1"), d("nonsense")))
                .hasMessageContaining("malformed PCI address 'nonsense'");
        assertThatThrownBy(() -> cmd.attach(false, false, g("1")))
                .hasMessageContaining("missing device");
        assertThatThrownBy(() -> cmd.detach(false))
                .hasMessageContaining("missing device");
        assertThat(da.owner).isEmpty();
    }

    /** Through Gogo, as the shell runs them: the converter types the words, the errors stay the parsers' own. */
    @Test
    void typedArgumentsKeepTheirOneLineErrorsThroughGogo() throws Exception {
        org.apache.felix.gogo.runtime.CommandProcessorImpl processor =
                new org.apache.felix.gogo.runtime.CommandProcessorImpl(new org.apache.felix.gogo.runtime.threadio.ThreadIOImpl());
        processor.addConverter(new ConsoleConverter());
        for (String name : CommandList.names()) {
            processor.addCommand(CommandList.SCOPE, cmd, name);
        }
        org.apache.felix.service.command.CommandSession gogo = processor.createSession(
                java.io.InputStream.nullInputStream(), java.io.OutputStream.nullOutputStream(),
                java.io.OutputStream.nullOutputStream());
        assertThat(Formats.text(gogo.execute("attach 4 3b:00.1 0000:5e:00.0")))
                .startsWith("guest 4: 2 devices on 2 units (dmar0 DID 1, dmar1 DID 1)");
        assertThat(Formats.text(gogo.execute("detach 5e:00.0"))).isEqualTo("detached\n"
                + "BDF           GUEST  UNIT   DID\n0000:5e:00.0      4  dmar1    1");
        for (String[] c : List.of(
                new String[] {"attach 1 not-a-bdf", "malformed PCI address 'not-a-bdf': expected SSSS:BB:DD.F in"
                        + " hexadecimal, e.g. 0000:3b:00.1"},
                new String[] {"attach x 0000:3b:00.2", "malformed guest id 'x': expected a decimal number 1..32751"},
                new String[] {"map 0 0x1000 0x2000", "guest id 0 is the host"},
                new String[] {"ctx zz", "malformed PCI address 'zz'"},
                new String[] {"translate --json 0000:3b:00.0 0x1g", "malformed IOVA '0x1g'"},
                new String[] {"flush 99999999999", "malformed guest id '99999999999'"},
                new String[] {"detach", "detach: missing device"},
                new String[] {"ctx", "ctx: no argument given: expected 'ctx [--json] BDF' (see 'help ctx')"})) {
            assertThatThrownBy(() -> gogo.execute(c[0])).as(c[0])
                    .satisfies(e -> assertThat(Errors.message(e)).startsWith(c[1]));
        }
        assertThat(da.byGuest()).containsOnlyKeys(4);
        // results are objects a script reads, as the README shows
        assertThat(gogo.execute("g = guest 4; $g dids")).isEqualTo(java.util.Map.of("dmar0", 1));
        assertThat((List<?>) gogo.execute("(units) units")).hasSize(2);
        assertThat(gogo.execute("(guest --json 4) value")).isInstanceOf(GuestDetailDTO.class);
    }

    /** Found by ConsoleArgumentsFuzzTest: a device given twice reached the service, whose answer the console left to it. */
    @Test
    void aDeviceGivenTwiceIsRefusedBeforeAnythingChanges() {
        cmd.attach(false, false, g("4"), d("0000:3b:00.0"));
        assertThatThrownBy(() -> cmd.detach(false, d("3b:00.0"), d("0000:3b:00.0")))
                .isExactlyInstanceOf(IllegalArgumentException.class)
                .hasMessage("detach: device 0000:3b:00.0 is given twice (as '3b:00.0' and '0000:3b:00.0'):"
                        + " expected each device once");
        assertThatThrownBy(() -> cmd.attach(false, false, g("5"), d("0000:3b:00.1"), d("0000:3B:00.1")))
                .hasMessageStartingWith("attach: device 0000:3b:00.1 is given twice");
        assertThat(da.byGuest()).containsOnlyKeys(4);
    }

    @Test
    void attachingAnAttachedDeviceFailsWithTheServicesMessage() {
        cmd.attach(false, false, g("1"), d("0000:3b:00.1"));
        assertThatThrownBy(() -> cmd.attach(false, false, g("2"), d("0000:3b:00.1")))
                .isInstanceOf(IommuException.class)
                .hasMessageContaining("already attached");
    }

    // ------------------------------------------------------------ groups

    @Test
    void groupsListEveryGroupWithItsUnitRequesterIdAndOwner() {
        da.bridgeGroup();
        cmd.attach(false, false, g("4"), d("0000:5e:00.1"), d("0000:5e:00.2"));
        String text = text(cmd.groups(false));
        assertThat(text).startsWith("GROUP  UNIT   REQUESTER-ID  GUEST  DEVICES  BDF\n")
                .containsPattern("\\n    0  dmar0  0000:3b:00\\.0      -        1  0000:3b:00\\.0\\n")
                .containsPattern("\\n    4  dmar1  0000:5d:00\\.0      4        2  0000:5e:00\\.1 0000:5e:00\\.2\\n");
        assertThat(text.split("\n")).hasSize(8); // 8 devices, 7 groups
        JsonArray j = json(cmd.groups(true)).getAsJsonArray();
        assertThat(j).hasSize(7);
        JsonObject bridged = j.get(4).getAsJsonObject();
        assertThat(bridged.keySet()).containsExactly("group", "unit", "requesterId", "devices", "guest", "quarantined");
        assertThat(bridged.get("requesterId").getAsString()).isEqualTo("0000:5d:00.0");
        assertThat(bridged.get("devices").getAsJsonArray()).hasSize(2);
        assertThat(bridged.get("guest").getAsInt()).isEqualTo(4);
        assertThat(j.get(0).getAsJsonObject().get("guest").isJsonNull()).isTrue();
        assertThat(Formats.line(cmd.groups(false))).isEqualTo("7 groups");
    }

    @Test
    void groupIsFoundByNumberOrByAnyOfItsDevices() {
        da.bridgeGroup();
        String byNumber = text(cmd.group(false, "4"));
        assertThat(byNumber).isEqualTo("group         4\nunit          dmar1\nrequester id  0000:5d:00.0\n"
                + "guest         - (host)\ndevices       2 (0000:5e:00.1 0000:5e:00.2)");
        assertThat(text(cmd.group(false, "5e:00.2"))).isEqualTo(byNumber);
        assertThat(text(cmd.group(false, " 0000:5E:00.1 "))).isEqualTo(byNumber);
        JsonObject j = json(cmd.group(true, "0000:3b:00.3")).getAsJsonObject();
        assertThat(j.keySet()).containsExactly("group", "unit", "requesterId", "devices", "guest", "quarantined");
        assertThat(j.get("group").getAsInt()).isEqualTo(3);
        assertThat(j.get("guest").isJsonNull()).isTrue();
        // devices --json names the same group
        assertThat(json(cmd.devices(true)).getAsJsonArray().get(6).getAsJsonObject().get("group").getAsInt()).isEqualTo(4);
    }

    @Test
    void anUnknownGroupIsOneLineNamingWhatExists() {
        da.bridgeGroup();
        assertThatThrownBy(() -> cmd.group(false, "9")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("no group '9': expected one of 0, 1, 2, 3, 4, 5, 6 (see 'groups'), or a device's PCI address"
                        + " SSSS:BB:DD.F");
        assertThatThrownBy(() -> cmd.group(false, "0000:99:00.0")).isInstanceOf(IommuException.class)
                .hasMessage("unknown device 0000:99:00.0: no unit translates it (expected a device that 'devices' lists)");
        assertThatThrownBy(() -> cmd.group(false, "dmar0"))
                .hasMessage("malformed group 'dmar0': expected a group number, one of 0, 1, 2, 3, 4, 5, 6, or a device's"
                        + " PCI address SSSS:BB:DD.F in hexadecimal, e.g. 0000:3b:00.1");
        assertThatThrownBy(() -> cmd.group(false, " ")).hasMessageStartingWith("missing group: expected a group number");
        assertThatThrownBy(() -> cmd.group(false, "99999999999999")).hasMessageStartingWith("malformed group '99999999999999'");
    }

    @Test
    void attachGroupAttachesTheDevicesWholeGroup() {
        da.bridgeGroup();
        GuestDetailDTO g = cmd.attach(false, true, g("4"), d("5e:00.2"));
        assertThat(g.devices).extracting(x -> x.bdf).containsExactly("0000:5e:00.1", "0000:5e:00.2");
        assertThat(da.byGuest()).containsExactly(java.util.Map.entry(4, List.of("0000:5e:00.1", "0000:5e:00.2")));
        // a device alone in its group: --group attaches just it
        assertThat(cmd.attach(false, true, g("5"), d("0000:3b:00.0")).devices).extracting(x -> x.bdf)
                .containsExactly("0000:3b:00.0");
    }

    @Test
    void aPartOfAGroupIsTheCoresOneLineRefusalAndChangesNothing() {
        da.bridgeGroup();
        assertThatThrownBy(() -> cmd.attach(false, false, g("4"), d("0000:5e:00.1"))).isInstanceOf(IommuException.class)
                .hasMessage("device 0000:5e:00.1 is in IOMMU group 4 with 0000:5e:00.2: a group is attached whole: give"
                        + " every member (0000:5e:00.1 0000:5e:00.2) or use 'attach --group 4 0000:5e:00.1'");
        assertThat(da.owner).isEmpty();
        cmd.attach(false, true, g("4"), d("0000:5e:00.1"));
        assertThatThrownBy(() -> cmd.detach(false, d("0000:5e:00.2")))
                .hasMessage("device 0000:5e:00.2 is in IOMMU group 4 with 0000:5e:00.1: a group is detached whole: give"
                        + " every member (0000:5e:00.1 0000:5e:00.2) or use 'detach --group 0000:5e:00.2'");
        // a member owned by another guest: the attach fails naming it
        assertThatThrownBy(() -> cmd.attach(false, true, g("5"), d("0000:5e:00.2")))
                .hasMessage("device 0000:5e:00.1 is already attached to guest 4");
        assertThat(da.byGuest()).containsOnlyKeys(4);
        assertThat(da.owner).hasSize(2);
    }

    @Test
    void detachGroupDetachesItWholeAndReportsEveryMember() {
        da.bridgeGroup();
        cmd.attach(false, true, g("4"), d("0000:5e:00.1"));
        cmd.attach(false, false, g("4"), d("0000:5e:00.0"));
        DetachedDTO r = cmd.detach(true, d("5e:00.2"));
        assertThat(r.devices).extracting(x -> x.bdf + " " + x.guest + " " + x.unit + " " + x.did)
                .containsExactly("0000:5e:00.1 4 dmar1 1", "0000:5e:00.2 4 dmar1 1");
        assertThat(da.byGuest()).containsExactly(java.util.Map.entry(4, List.of("0000:5e:00.0")));
    }

    @Test
    void withGroupExactlyOneDeviceAndAnUnknownOneKeepsTodaysError() {
        da.bridgeGroup();
        assertThatThrownBy(() -> cmd.attach(false, true, g("4"), d("0000:5e:00.1"), d("0000:5e:00.2")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("attach: --group takes one device, 2 given: expected 'attach [--allow-reserved-memory] [--group]"
                        + " GUEST BDF... (one BDF with --group)' (see 'help attach')");
        assertThatThrownBy(() -> cmd.detach(true, d("0000:5e:00.1"), d("0000:3b:00.0")))
                .hasMessage("detach: --group takes one device, 2 given: expected 'detach [--group] BDF... (one BDF with"
                        + " --group)' (see 'help detach')");
        assertThatThrownBy(() -> cmd.attach(false, true, g("4"))).hasMessageContaining("attach: missing device");
        String without = catchMessage(() -> cmd.attach(false, false, g("4"), d("0000:99:00.0")));
        assertThat(catchMessage(() -> cmd.attach(false, true, g("4"), d("0000:99:00.0")))).isEqualTo(without)
                .startsWith("unknown device 0000:99:00.0");
        assertThat(catchMessage(() -> cmd.detach(true, d("0000:99:00.0"))))
                .isEqualTo(catchMessage(() -> cmd.detach(false, d("0000:99:00.0"))));
        assertThat(da.owner).isEmpty();
    }

    private static String catchMessage(org.assertj.core.api.ThrowableAssert.ThrowingCallable call) {
        return org.assertj.core.api.Assertions.catchThrowable(call).getMessage();
    }

    @Test
    void groupCommandsThroughGogo() throws Exception {
        da.bridgeGroup();
        org.apache.felix.service.command.CommandSession gogo = gogo();
        assertThat(Formats.text(gogo.execute("attach --group 4 5e:00.1")))
                .startsWith("guest 4: 2 devices on 1 unit (dmar1 DID 1)");
        assertThat(Formats.text(gogo.execute("attach --allow-reserved-memory --group 4 0000:5e:00.3")))
                .startsWith("guest 4: 3 devices on 1 unit");
        assertThat(Formats.text(gogo.execute("detach --group 0000:5e:00.2"))).isEqualTo("detached\n"
                + "BDF           GUEST  UNIT   DID\n0000:5e:00.1      4  dmar1    1\n0000:5e:00.2      4  dmar1    1");
        assertThat(Formats.text(gogo.execute("group 5e:00.3"))).startsWith("group         6\nunit          dmar1\n");
        assertThat(Formats.text(gogo.execute("groups --json"))).startsWith("[");
        assertThat(gogo.execute("(group 4) requesterId")).isEqualTo("0000:5d:00.0");
        for (String[] c : List.of(
                new String[] {"attach 5 0000:5e:00.1", "device 0000:5e:00.1 is in IOMMU group 4 with 0000:5e:00.2"},
                new String[] {"attach --group 5 3b:00.0 3b:00.1", "attach: --group takes one device, 2 given: expected"
                        + " 'attach [--allow-reserved-memory] [--group] GUEST BDF... (one BDF with --group)'"},
                new String[] {"detach --group", "detach: missing device"},
                new String[] {"group 9", "no group '9': expected one of 0, 1, 2, 3, 4, 5, 6"},
                new String[] {"group", "group: no argument given: expected 'group [--json] ID|BDF' (see 'help group')"})) {
            assertThatThrownBy(() -> gogo.execute(c[0])).as(c[0])
                    .satisfies(e -> assertThat(Errors.message(e)).startsWith(c[1]));
        }
        assertThat(da.byGuest()).containsExactly(java.util.Map.entry(4, List.of("0000:5e:00.3")));
    }

    private org.apache.felix.service.command.CommandSession gogo() {
        org.apache.felix.gogo.runtime.CommandProcessorImpl processor =
                new org.apache.felix.gogo.runtime.CommandProcessorImpl(new org.apache.felix.gogo.runtime.threadio.ThreadIOImpl());
        processor.addConverter(new ConsoleConverter());
        for (String name : CommandList.names()) {
            processor.addCommand(CommandList.SCOPE, cmd, name);
        }
        return processor.createSession(java.io.InputStream.nullInputStream(), java.io.OutputStream.nullOutputStream(),
                java.io.OutputStream.nullOutputStream());
    }

    @Test
    void ctxShowsTheRequesterIdTheUnitSees() {
        da.bridgeGroup();
        assertThat(text(cmd.ctx(false, d("0000:5e:00.2")))).startsWith("device        0000:5e:00.2\n"
                + "unit          dmar1\nguest         - (host)\nrequester id  0000:5d:00.0\n"
                + "context entry (IommuUnit.describeContext):\n");
        assertThat(json(cmd.ctx(true, d("0000:5e:00.2"))).getAsJsonObject().get("requesterId").getAsString())
                .isEqualTo("0000:5d:00.0");
        assertThat(text(cmd.ctx(false, d("0000:5e:00.0")))).contains("\nrequester id  0000:5e:00.0\n");
    }

    @Test
    void capacityCountsGroupsNotDevices() {
        da.bridgeGroup();
        String text = text(cmd.capacity(false, "1"));
        assertThat(text).startsWith("1 group per guest, all under one unit; fit = floor(groups / 1), usable = domain ids"
                + " - reserved\n")
                .containsPattern("UNIT\\s+DIDS\\s+RESERVED\\s+USABLE\\s+GROUPS\\s+FIT\\s+PER-UNIT")
                .containsPattern("dmar1\\s+256\\s+1\\s+255\\s+3\\s+3\\s+3")
                .containsPattern("total\\s+-\\s+-\\s+-\\s+7\\s+7\\s+7")
                .containsPattern("per-unit\\s+7\\s+sum over units");
        JsonObject u = json(cmd.capacity(true, "3")).getAsJsonObject().get("units").getAsJsonArray().get(1).getAsJsonObject();
        assertThat(u.get("groups").getAsInt()).isEqualTo(3);
        assertThat(u.get("fit").getAsLong()).isEqualTo(1);
        assertThat(text(cmd.capacity(false, "2"))).startsWith("2 groups per guest");
    }

    // ------------------------------------------------------------ domains, ctx

    @Test
    void domainsListsDidToGuestWithDevices() {
        cmd.attach(false, false, g("7"), d("0000:3b:00.0"), d("0000:3b:00.1"));
        cmd.attach(false, false, g("9"), d("0000:3b:00.2"));
        String text = text(cmd.domains(false, "dmar0"));
        assertThat(text).startsWith("dmar0: 2 of 256 domain ids in use (reserved: 0)\nDID  GUEST  DEVICES  BDF")
                .containsPattern("\\n  1      7        2  0000:3b:00.0 0000:3b:00.1")
                .containsPattern("\\n  2      9        1  0000:3b:00.2");
        JsonObject j = json(cmd.domains(true, "0")).getAsJsonObject();
        assertThat(j.keySet()).containsExactly("unit", "domainIds", "reserved", "hostDomainId", "domains");
        JsonObject first = j.get("domains").getAsJsonArray().get(0).getAsJsonObject();
        assertThat(first.keySet()).containsExactly("did", "guest", "devices");
        assertThat(first.get("guest").getAsInt()).isEqualTo(7);
        assertThatThrownBy(() -> cmd.domains(false, "dmar9")).hasMessageContaining("no unit matches 'dmar9'");
    }

    @Test
    void ctxShowsTheUnitsDecodedEntry() {
        cmd.attach(false, false, g("3"), d("0000:5e:00.1"));
        String text = text(cmd.ctx(false, d("5e:00.1")));
        assertThat(text).contains("device        0000:5e:00.1", "unit          dmar1", "guest         3",
                "present  true", "did      1");
        JsonObject j = json(cmd.ctx(true, d("0000:3b:00.0"))).getAsJsonObject();
        assertThat(j.keySet()).containsExactly("bdf", "unit", "guest", "context", "requesterId");
        assertThat(j.get("requesterId").getAsString()).isEqualTo("0000:3b:00.0");
        assertThat(j.get("guest").isJsonNull()).isTrue();
        assertThat(j.get("context").getAsJsonObject().get("present").getAsBoolean()).isFalse();
        assertThatThrownBy(() -> cmd.ctx(false, d("0000:99:00.0"))).hasMessageContaining("unknown device 0000:99:00.0");
        assertThatThrownBy(() -> cmd.ctx(false, d("zz"))).hasMessageContaining("malformed PCI address 'zz'");
    }

    // ------------------------------------------------------------ map, unmap, translate, flush

    @Test
    void mapAndUnmapTakeHexOrDecimal() {
        cmd.attach(false, false, g("2"), d("0000:3b:00.0"));
        assertThat(cmd.map(g("2"), "0x1000", "2097152", "2"))
                .isEqualTo("mapped 2 pages of guest 2: IOVA 0x1000-0x2fff -> host 0x200000-0x201fff (on dmar0)");
        assertThat(cmd.map(g("5"), "4096", "0x3000"))
                .startsWith("mapped 1 page of guest 5").endsWith("(on no unit yet: written to each unit where the guest gets a device)");
        assertThat(cmd.unmap(g("2"), "0x1000")).isEqualTo("unmapped 1 page of guest 2: IOVA 0x1000-0x1fff (on dmar0)");
        assertThat(da.mapped).containsExactly("map 2 1000 200000 2", "map 5 1000 3000 1", "unmap 2 1000 1");
    }

    @Test
    void mapErrorsNameTheArgument() {
        assertThatThrownBy(() -> cmd.map(g("1"), "zz", "0x1000")).hasMessage(
                "malformed IOVA 'zz': expected a number, decimal or hexadecimal with 0x, e.g. 0x10000");
        assertThatThrownBy(() -> cmd.map(g("1"), "0x1000", "-1")).hasMessageContaining("malformed host address '-1'");
        assertThatThrownBy(() -> cmd.map(g("1"), "0x1000", "0x2000", "0")).hasMessageContaining("page count '0' out of range");
        assertThatThrownBy(() -> cmd.map(g("1"), "0x1001", "0x2000")).hasMessageContaining("not 4 KiB aligned");
        assertThatThrownBy(() -> cmd.unmap(g("0"), "0x1000")).hasMessageContaining("guest id 0 is the host");
        assertThatThrownBy(() -> cmd.map(g("1"), "0x10000000000000000", "0")).hasMessageContaining("out of range");
        assertThat(da.mapped).isEmpty();
    }

    @Test
    void translateShowsTheAddressOrTheFaultAsAResult() {
        cmd.attach(false, false, g("2"), d("0000:3b:00.0"));
        TranslationDTO hit = (TranslationDTO) cmd.translate(false, d("0000:3b:00.0"), "0x1000");
        assertThat(hit.fault).isNull();
        assertThat(text(hit)).isEqualTo("0000:3b:00.0 on dmar0 (guest 2, DID 1): IOVA 0x1000 -> host 0x200000");
        TranslationDTO fault = (TranslationDTO) cmd.translate(false, d("0000:3b:00.0"), "8192");
        assertThat(fault.fault).isNotNull();
        assertThat(text(fault)).endsWith("IOVA 0x2000 -> fault 0x6: PTE read access is not set");
        JsonObject j = json(cmd.translate(true, d("0000:3b:00.0"), "0x2000")).getAsJsonObject();
        assertThat(j.keySet()).containsExactly("bdf", "unit", "guest", "hostDomain", "quarantined", "did", "iova",
                "hostAddress",
                "fault");
        assertThat(j.get("hostAddress").isJsonNull()).isTrue();
        assertThat(j.get("fault").getAsJsonObject().get("reason").getAsInt()).isEqualTo(6);
        JsonObject h = json(cmd.translate(true, d("0000:3b:00.0"), "0x1000")).getAsJsonObject();
        assertThat(h.get("hostAddress").getAsString()).isEqualTo("0x200000");
        assertThat(h.get("fault").isJsonNull()).isTrue();
        assertThatThrownBy(() -> cmd.translate(false, d("0000:3b:00.0"), "x")).hasMessageContaining("malformed IOVA 'x'");
    }

    @Test
    void flushPrintsWhatWasIssuedPerUnitAndGranularity() {
        cmd.attach(false, false, g("6"), d("0000:3b:00.0"), d("0000:5e:00.0"));
        String text = text(cmd.flush(false, g("6")));
        assertThat(text).startsWith("guest 6: 2 invalidations completed on 2 units (dmar0: domain=1; dmar1: domain=1)")
                .contains("UNIT   GRANULARITY  DID");
        JsonObject j = json(cmd.flush(true, g("6"), "0x4000", "4")).getAsJsonObject();
        assertThat(j.keySet()).containsExactly("guest", "invalidations");
        JsonObject i = j.get("invalidations").getAsJsonArray().get(0).getAsJsonObject();
        assertThat(i.keySet()).containsExactly("unit", "granularity", "did", "bdf", "iova", "pages");
        assertThat(i.get("iova").getAsString()).isEqualTo("0x4000");
        assertThat(i.get("pages").getAsLong()).isEqualTo(4);
        assertThat(text(cmd.flush(false, g("8")))).isEqualTo("guest 8 holds no domain id: nothing to invalidate");
        assertThatThrownBy(() -> cmd.flush(false, g("6"), "0x4000", "none")).hasMessageContaining("malformed page count");
    }

    @Test
    void withoutFlushServiceFlushSaysWhichBundle() {
        cmd.flushService = null;
        assertThatThrownBy(() -> cmd.flush(false, g("1"))).hasMessageContaining("iommu.flush");
    }

    // ------------------------------------------------------------ stats, strategies, capacity

    @Test
    void statsShowsDidsAndInvalidationsByGranularity() {
        cmd.attach(false, false, g("6"), d("0000:3b:00.0"));
        String text = text(cmd.stats(false));
        assertThat(text.lines().findFirst().orElseThrow())
                .matches("UNIT\\s+DIDS\\s+RESERVED\\s+USED\\s+FREE\\s+ALLOCATED\\s+RELEASED\\s+FAILED\\s+QUARANTINED"
                        + "\\s+INV-DEVICE\\s+INV-DOMAIN\\s+INV-PAGES\\s+INV-DEVTLB\\s+INV-GLOBAL");
        assertThat(text).containsPattern("dmar0\\s+256\\s+1\\s+1\\s+254\\s+1\\s+0\\s+0\\s+0\\s+1\\s+2\\s+3\\s+0\\s+0")
                .contains("dmar0  performed.wait=4");
        JsonObject u = json(cmd.stats(true)).getAsJsonArray().get(0).getAsJsonObject();
        assertThat(u.keySet()).containsExactly("unit", "domainIds", "reserved", "usedDomainIds", "freeDomainIds", "allocations",
                "invalidations");
        assertThat(u.get("allocations").getAsJsonObject().get("allocations").getAsLong()).isEqualTo(1);
        assertThat(u.get("invalidations").getAsJsonObject().get("performed.wait").getAsLong()).isEqualTo(4);
    }

    @Test
    void strategiesListEveryServiceWithItsCapacity() {
        String text = text(cmd.strategies(false));
        assertThat(text).containsPattern("global\\s+iommu.alloc.global\\s+0\\s+no\\s+255\\s+global strategy")
                .containsPattern("per-unit\\s+iommu.alloc.perunit\\s+0\\s+yes\\s+510");
        JsonObject s = json(cmd.strategies(true)).getAsJsonArray().get(1).getAsJsonObject();
        assertThat(s.keySet()).containsExactly("name", "bundle", "ranking", "bound", "capacity", "description");
        assertThat(s.get("bound").getAsBoolean()).isTrue();
        assertThat(s.get("capacity").getAsLong()).isEqualTo(510);
    }

    @Test
    void capacityShowsInputsAndWhatEachStrategyAdmits() {
        String text = text(cmd.capacity(false, "1"));
        assertThat(text).containsPattern("dmar0\\s+256\\s+1\\s+255\\s+4\\s+4\\s+4")
                .containsPattern("total\\s+-\\s+-\\s+-\\s+8\\s+8\\s+8")
                .containsPattern("global\\s+8\\s+min\\(shared ids 255")
                .containsPattern("per-unit\\s+8\\s+sum over units");
        JsonObject j = json(cmd.capacity(true, "2")).getAsJsonObject();
        assertThat(j.keySet()).containsExactly("devicesPerGuest", "units", "strategies");
        assertThat(j.get("units").getAsJsonArray().get(0).getAsJsonObject().keySet())
                .containsExactly("unit", "domainIds", "reserved", "usable", "groups", "fit", "perUnit");
        assertThat(j.get("strategies").getAsJsonArray().get(0).getAsJsonObject().keySet())
                .containsExactly("strategy", "admits", "model");
        assertThat(j.get("strategies").getAsJsonArray().get(1).getAsJsonObject().get("admits").getAsLong()).isEqualTo(4);
        assertThatThrownBy(() -> cmd.capacity(false, "0")).hasMessageContaining("devices per guest '0' out of range");
        assertThatThrownBy(() -> cmd.capacity(false, "two")).hasMessageContaining("malformed devices per guest 'two'");
    }

    // ------------------------------------------------------------ state

    @Test
    void stateSaysWhereStateIsKeptAndListsWhatTheRecoveryFound() {
        assertThat(text(cmd.state(false))).isEqualTo("state  ephemeral (no --state): nothing is kept after exit");
        da.stateDirectory = "/var/lib/iommu";
        da.restored = 1;
        da.recoveryProblems.add("device 0000:05:00.0 is attached to guest 4 (domain id 7 on unit dmar0) but the"
                + " journal does not have it; kept");
        assertThat(text(cmd.state(false)).lines()).containsExactly(
                "state          kept in /var/lib/iommu (the core's journal; VT-d units' tables in vtd/)",
                "restored       1 attachment written again from the journal",
                "disagreements  1",
                "  device 0000:05:00.0 is attached to guest 4 (domain id 7 on unit dmar0) but the journal does not"
                        + " have it; kept");
        JsonObject j = JsonParser.parseString(text(cmd.state(true))).getAsJsonObject();
        assertThat(j.get("directory").getAsString()).isEqualTo("/var/lib/iommu");
        assertThat(j.get("restored").getAsInt()).isEqualTo(1);
        assertThat(j.get("problems").getAsJsonArray()).hasSize(1);
        assertThat(j.get("rebuilt").getAsJsonArray()).isEmpty();
    }

    @Test
    void stateListsTheUnitsWhoseTablesWereRebuiltUnderTheirHeading() {
        da.stateDirectory = "/var/lib/iommu";
        da.restored = 2;
        da.rebuilt.add("unit dmar0: table file /var/lib/iommu/vtd/x.tables refused: damaged; set aside as"
                + " x.tables.refused-20260101T000000Z; its tables are rebuilt from the journal");
        assertThat(text(cmd.state(false)).lines()).containsExactly(
                "state          kept in /var/lib/iommu (the core's journal; VT-d units' tables in vtd/)",
                "restored       2 attachments written again from the journal",
                "rebuilt        1 unit's tables from the journal (--rebuild-tables), the refused files set aside:",
                "  unit dmar0: table file /var/lib/iommu/vtd/x.tables refused: damaged; set aside as"
                        + " x.tables.refused-20260101T000000Z; its tables are rebuilt from the journal",
                "disagreements  none");
        JsonObject j = JsonParser.parseString(text(cmd.state(true))).getAsJsonObject();
        assertThat(j.get("rebuilt").getAsJsonArray()).hasSize(1);
    }

    // ------------------------------------------------------------ verify, occupancy

    @Test
    void verifySaysOkOrListsDisagreementsAndFails() {
        assertThat(cmd.verify()).isEqualTo("ok: map, strategy bitmaps and 2 units' context entries agree");
        da.problems.add("unit dmar0: domain id 3 is in the strategy's bitmap but held by no guest");
        da.problems.add("device 0000:3b:00.0: context entry has domain id 2, the map says 1");
        assertThatThrownBy(cmd::verify).isInstanceOf(IommuException.class)
                .hasMessage("verify: 2 disagreements between the map, the strategy's bitmaps and the units' context"
                        + " entries (listed above)")
                .satisfies(e -> assertThat(ProblemsException.of(e)).containsExactly(
                        "unit dmar0: domain id 3 is in the strategy's bitmap but held by no guest",
                        "device 0000:3b:00.0: context entry has domain id 2, the map says 1"));
        assertThat(out.toString(StandardCharsets.UTF_8)).isEmpty(); // the command prints nothing: the shell does
    }

    @Test
    void occupancyDrawsUsedReservedAndFree() {
        cmd.attach(false, false, g("6"), d("0000:3b:00.0"));
        cmd.attach(false, false, g("7"), d("0000:3b:00.1"));
        String pic = cmd.occupancy("dmar0");
        assertThat(pic.lines().toList()).containsExactly(
                "dmar0: 256 domain ids, 2 used, 1 reserved, 253 free (one id a cell)",
                "  0  r##" + ".".repeat(61),
                " 64  " + ".".repeat(64),
                "128  " + ".".repeat(64),
                "192  " + ".".repeat(64),
                "# used  r reserved  . free");
        assertThat(cmd.occupancy()).contains("dmar0: 256", "dmar1: 256");
        assertThatThrownBy(() -> cmd.occupancy("nine")).hasMessageContaining("no unit matches 'nine'");
    }

    // ------------------------------------------------------------ discover, forget

    @Test
    void discoverPrintsWhatTheRecognizingDiscoveryFound() throws Exception {
        Path file = Files.writeString(dir.resolve("extra.txt"), "iommu-platform 1\n");
        Object d = cmd.discover(null, false, file.toString());
        assertThat(text(d)).contains("source    " + file, "format    platform-file (vendor vt-d)",
                "units     1: dmar7", "devices   3", "warnings  1", "  line 4: unknown keyword 'frob'");
        JsonObject j = json(cmd.discover(null, true, file.toString())).getAsJsonObject();
        assertThat(j.keySet()).containsExactly("source", "format", "vendor", "units", "devices", "warnings");
        assertThat(err.toString(StandardCharsets.UTF_8)).isEmpty(); // no progress for a fast discovery
    }

    @Test
    void discoverRefusesWhatNothingRecognizes() throws Exception {
        Path other = Files.writeString(dir.resolve("notes.md"), "hello\n");
        assertThatThrownBy(() -> cmd.discover(null, false, other.toString()))
                .isInstanceOf(Discoveries.UnrecognizedPlatformException.class)
                .hasMessageContaining("is not a platform any discovery reads (vt-d): expected an ACPI DMAR table")
                .hasMessageContaining("a sysfs-shaped directory").hasMessageContaining("a platform file");
        assertThatThrownBy(() -> cmd.discover(null, false, dir.resolve("missing.txt").toString()))
                .hasMessageContaining("not found: expected an ACPI DMAR table");
        cmd.discoveryServices = List::of;
        assertThatThrownBy(() -> cmd.discover(null, false, other.toString()))
                .hasMessageContaining("no platform discovery service is present");
    }

    /** Found by ConsoleArgumentsFuzzTest (seed "newlines"): the path was echoed raw, a NUL one escaped as an InvalidPathException. */
    @Test
    void discoverEchoesAHostilePathOnOneLine() {
        assertThatThrownBy(() -> cmd.discover(null, false, dir.resolve("no").toString() + "\nsuch.txt"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("'" + dir.resolve("no") + "\\nsuch.txt' not found: expected an ACPI DMAR table")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
        assertThatThrownBy(() -> cmd.discover(null, false, "bad\0path.txt"))
                .isExactlyInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("malformed path 'bad\\u0000path.txt': Nul character not allowed: expected an ACPI");
        String longPath = "/" + "d".repeat(300) + "/platform.txt";
        assertThatThrownBy(() -> cmd.discover(null, false, longPath))
                .hasMessageStartingWith("'/" + "d".repeat(Discoveries.PATH_SHOWN - 1) + "...' not found");
    }

    @Test
    void forgetAsksTheUnitsVendorDiscovery() {
        assertThat(cmd.forget("dmar1")).isEqualTo("forgot unit dmar1 (vt-d): its 4 devices are no longer translated");
        assertThat(forgotten).containsExactly("dmar1");
        cmd.attach(false, false, g("1"), d("0000:3b:00.0"));
        assertThatThrownBy(() -> cmd.forget("dmar0")).hasMessageContaining("has attached devices");
        assertThatThrownBy(() -> cmd.forget("dmar")).hasMessageContaining("ambiguous");
    }

    // ------------------------------------------------------------ strategy

    @Test
    void withoutCoreEveryCommandSaysSo() {
        cmd.assignment = null;
        assertThatThrownBy(() -> cmd.units(false))
                .isInstanceOf(IommuException.class)
                .hasMessageContaining("iommu.core");
        assertThatThrownBy(() -> cmd.strategy())
                .hasMessageContaining("iommu.core");
        assertThatThrownBy(() -> cmd.verify()).hasMessageContaining("iommu.core");
        assertThatThrownBy(() -> cmd.capacity(false, "1")).hasMessageContaining("iommu.core");
    }

    @Test
    void strategyPrintsTheBoundOne() {
        assertThat(cmd.strategy()).isEqualTo("per-unit");
        da.bound = null;
        da.problem = "strategy 'global' is not registered";
        assertThatThrownBy(() -> cmd.strategy())
                .hasMessageContaining("no allocation strategy is bound")
                .hasMessageContaining("not registered");
    }

    // ------------------------------------------------------------ completion

    @Test
    void completionOffersWhatFitsThePosition() {
        cmd.attach(false, false, g("4"), d("0000:3b:00.1"));
        assertThat(values(cmd.candidates("unit", List.of()))).containsExactly("dmar0", "dmar1");
        assertThat(values(cmd.candidates("unit", List.of("dmar0")))).isEmpty();
        assertThat(values(cmd.candidates("domains", List.of("--json")))).containsExactly("dmar0", "dmar1");
        assertThat(values(cmd.candidates("guest", List.of()))).containsExactly("4");
        // attach: a guest (existing or the next new one), then unattached devices not typed yet
        assertThat(values(cmd.candidates("attach", List.of()))).containsExactly("4", "5");
        assertThat(values(cmd.candidates("attach", List.of("--allow-reserved-memory", "4", "0000:3b:00.0"))))
                .doesNotContain("0000:3b:00.0", "0000:3b:00.1").contains("0000:3b:00.2", "0000:5e:00.3");
        assertThat(values(cmd.candidates("detach", List.of()))).containsExactly("0000:3b:00.1");
        assertThat(values(cmd.candidates("ctx", List.of()))).hasSize(8);
        assertThat(values(cmd.candidates("translate", List.of("0000:3b:00.1")))).isEmpty();
        assertThat(values(cmd.candidates("strategy", List.of()))).containsExactly("global", "per-unit");
        assertThat(values(cmd.candidates("capacity", List.of("--devices-per-guest")))).isEmpty();
        assertThat(cmd.candidates("attach", List.of("4")).get(0).description()).isEqualTo("dmar0, host");
        assertThat(values(cmd.candidates("group", List.of()))).hasSize(8 + 8).startsWith("0", "1").contains("0000:5e:00.3");
        assertThat(cmd.candidates("group", List.of("--json")).get(1).description()).isEqualTo("dmar0, 1 device, guest 4");
        assertThat(values(cmd.candidates("group", List.of("1")))).isEmpty();
        assertThat(values(cmd.candidates("groups", List.of()))).isEmpty();
        cmd.assignment = null;
        assertThat(cmd.candidates("unit", List.of())).isEmpty();
    }

    private static List<String> values(List<Completion.Candidate> candidates) {
        return candidates.stream().map(Completion.Candidate::value).toList();
    }

    @Test
    void everyCommandHasAUsageAndADescriptor() throws Exception {
        for (String name : CommandList.USAGE.keySet()) {
            List<java.lang.reflect.Method> methods = java.util.Arrays.stream(IommuCommands.class.getMethods())
                    .filter(m -> m.getName().equals(name)).toList();
            assertThat(methods).as(name).isNotEmpty();
            for (java.lang.reflect.Method m : methods) {
                assertThat(m.getAnnotation(org.apache.felix.service.command.Descriptor.class)).as(name).isNotNull();
                for (int i = 0; i < m.getParameterCount(); i++) {
                    if (m.getParameterTypes()[i] == org.apache.felix.service.command.CommandSession.class) {
                        continue;
                    }
                    assertThat(java.util.Arrays.stream(m.getParameterAnnotations()[i])
                            .anyMatch(a -> a instanceof org.apache.felix.service.command.Descriptor))
                            .as(name + " parameter " + i).isTrue();
                }
            }
        }
    }

    // ------------------------------------------------------------ hostile arguments

    @net.jqwik.api.Provide
    net.jqwik.api.Arbitrary<String> argument() {
        return net.jqwik.api.Arbitraries.oneOf(
                net.jqwik.api.Arbitraries.strings().ofMaxLength(24),
                net.jqwik.api.Arbitraries.strings().withChars("0123456789abcdefx:.- ").ofMaxLength(16),
                net.jqwik.api.Arbitraries.of("0000:18:10.0", "0000:ff:1f.7", "1", "32751", "32752", "0", "-1",
                        "0x1000", "0x", "4096", "99999999999999999999999", "dmar0", "dmar", "", " ", "\n", "NaN"));
    }

    /**
     * Console arguments fuzzed (issue 8): whatever the words, a command gives a
     * result or fails with the console's one error style (one line, an
     * IllegalArgumentException or IommuException), never anything else.
     */
    @net.jqwik.api.Property(tries = 3000)
    void anyArgumentsGiveAResultOrOneClearLine(@net.jqwik.api.ForAll("argument") String a,
            @net.jqwik.api.ForAll("argument") String b, @net.jqwik.api.ForAll("argument") String c,
            @net.jqwik.api.ForAll @net.jqwik.api.constraints.IntRange(min = 0, max = 16) int command) {
        da.bridgeGroup();
        try {
            switch (command) {
                case 0 -> cmd.unit(false, a);
                case 1 -> cmd.guest(false, a);
                case 2 -> cmd.attach(false, false, g(a), d(b), d(c));
                case 3 -> cmd.detach(false, d(a), d(b));
                case 4 -> cmd.domains(false, a);
                case 5 -> cmd.ctx(false, d(a));
                case 6 -> cmd.map(g(a), b, c, "1");
                case 7 -> cmd.map(g(a), b, c);
                case 8 -> cmd.unmap(g(a), b, c);
                case 9 -> cmd.translate(false, d(a), b);
                case 10 -> cmd.flush(false, g(a), b, c);
                case 11 -> cmd.occupancy(a);
                case 12 -> cmd.forget(a);
                case 13 -> cmd.group(false, a);
                case 14 -> cmd.attach(false, true, g(a), d(b));
                case 15 -> cmd.detach(true, d(a));
                default -> cmd.capacity(false, a);
            }
        } catch (IllegalArgumentException | iommu.api.IommuException e) {
            assertThat(e.getMessage()).as("error of command %d for '%s' '%s' '%s'", command, a, b, c)
                    .isNotBlank().doesNotContain("\n");
        }
    }

    @Test
    void regionsListTheInterruptWindowAndADevicesFirmwareMemory() {
        assertThat(text(cmd.regions(false, d("0000:5e:00.3")))).isEqualTo("0000:5e:00.3 on dmar1: 2 reserved regions"
                + " (no guest maps its own pages there; firmware memory is identity-mapped in the guest holding the device)"
                + "\n0x000000007a000000 0x000000007a0fffff direct\n"
                + "0x00000000fee00000 0x00000000feefffff msi");
        JsonObject j = json(cmd.regions(true, d("0000:5e:00.1"))).getAsJsonObject();
        assertThat(j.getAsJsonArray("regions")).hasSize(1);
        JsonObject w = j.getAsJsonArray("regions").get(0).getAsJsonObject();
        assertThat(w.get("first").getAsString()).isEqualTo("0xfee00000");
        assertThat(w.get("last").getAsString()).isEqualTo("0xfeefffff");
        assertThat(w.get("type").getAsString()).isEqualTo("msi");
        assertThatThrownBy(() -> cmd.regions(false, d("0000:77:00.0"))).hasMessageStartingWith("unknown device");
    }
}
