package iommu.console;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.reflect.InvocationTargetException;
import java.nio.charset.StandardCharsets;
import java.util.BitSet;
import java.util.List;
import java.util.Map;

import org.apache.felix.service.command.Converter;
import org.jline.builtins.Completers.CompletionData;
import org.junit.jupiter.api.Test;

import iommu.api.spi.UnitDescriptor;
import iommu.api.spi.UnitLoad;

import iommu.api.dto.DeviceDTO;

/** The console's small parts: numbers, the occupancy picture, the planner, errors, progress, formatting. */
class HelpersTest {

    @Test
    void numbersAreDecimalOrHex() {
        assertThat(Numbers.parse("IOVA", "4096")).isEqualTo(4096);
        assertThat(Numbers.parse("IOVA", "0x1000")).isEqualTo(4096);
        assertThat(Numbers.parse("IOVA", "0X1_0000")).isEqualTo(0x10000);
        assertThat(Numbers.parse("IOVA", "0x7fffffffffffffff")).isEqualTo(Long.MAX_VALUE);
        assertThatThrownBy(() -> Numbers.parse("IOVA", "0x8000000000000000"))
                .hasMessage("IOVA '0x8000000000000000' out of range: expected 0..0x7fffffffffffffff");
        assertThatThrownBy(() -> Numbers.parse("IOVA", "12k")).hasMessageStartingWith("malformed IOVA '12k': expected");
        assertThatThrownBy(() -> Numbers.parse("IOVA", "0x")).hasMessageStartingWith("malformed IOVA '0x'");
        assertThatThrownBy(() -> Numbers.parse("IOVA", " ")).hasMessageStartingWith("missing IOVA");
        assertThatThrownBy(() -> Numbers.pages("0")).hasMessageContaining("expected 1 or more");
    }

    /** Seen in ConsoleArgumentsFuzzTest's seeds: too large a count said it expected 0..2^63-1, which 0 is not. */
    @Test
    void tooLargeACountSaysTheCountsOwnRange() {
        assertThatThrownBy(() -> Numbers.pages("18446744073709551616"))
                .hasMessage("page count '18446744073709551616' out of range: expected 1..0x7fffffffffffffff 4 KiB pages");
        assertThatThrownBy(() -> Numbers.positiveInt("devices per guest", "99999999999999999999"))
                .hasMessage("devices per guest '99999999999999999999' out of range: expected 1..2147483647");
        assertThatThrownBy(() -> Numbers.positiveInt("devices per guest", "0x80000000"))
                .hasMessage("devices per guest '0x80000000' out of range: expected 1..2147483647");
    }

    @Test
    void occupancyOfA256IdUnitIsOneIdACell() {
        BitSet reserved = new BitSet();
        reserved.set(0);
        BitSet used = new BitSet();
        used.set(1, 65);
        String pic = Occupancy.render("dmar0", 256, reserved, used);
        List<String> lines = pic.lines().toList();
        assertThat(lines).hasSize(6);
        assertThat(lines.get(1)).isEqualTo("  0  r" + "#".repeat(63));
        assertThat(lines.get(2)).isEqualTo(" 64  #" + ".".repeat(63));
    }

    @Test
    void occupancyOfA65536IdUnitFoldsToThirtyTwoRows() {
        BitSet reserved = new BitSet();
        reserved.set(0);
        BitSet used = new BitSet();
        used.set(32, 64); // cell 1 fully used
        used.set(70); // cell 2 partly used
        String pic = Occupancy.render("dmar9", 65536, reserved, used);
        List<String> lines = pic.lines().toList();
        assertThat(Occupancy.idsPerCell(65536)).isEqualTo(32);
        assertThat(lines.get(0)).isEqualTo("dmar9: 65536 domain ids, 33 used, 1 reserved, 65502 free (32 ids a cell)");
        assertThat(lines).hasSize(1 + 32 + 1);
        assertThat(lines.get(1)).startsWith("    0  r#+.").hasSize(7 + 64);
        assertThat(lines.get(32)).startsWith("63488  ");
        assertThat(lines.get(33)).contains("partly used");
        assertThat(Occupancy.idsPerCell(16)).isEqualTo(1);
        assertThat(Occupancy.idsPerCell(4096)).isEqualTo(2);
    }

    @Test
    void capacityPlanFollowsTheModel() {
        // the seed's question: four units of 256 ids, three NICs of 128 VFs, one VF per guest
        List<UnitLoad> units = List.of(load("dmar0", 256, 128), load("dmar1", 256, 128), load("dmar2", 256, 128),
                load("dmar3", 256, 0));
        CapacityPlan one = new CapacityPlan(units, 1);
        assertThat(one.perUnitSum).isEqualTo(384);
        assertThat(one.units).extracting(CapacityPlan.UnitRow::perUnit).containsExactly(128L, 128L, 128L, 0L);
        assertThat(Fakes.strategy("per-unit").admits(one.loads, 1).admits()).isEqualTo(384);
        assertThat(Fakes.strategy("global").admits(one.loads, 1).admits()).isEqualTo(255);
        CapacityPlan three = new CapacityPlan(units, 3);
        assertThat(three.fitSum).isEqualTo(42 * 3);
        assertThat(three.perUnitSum).isEqualTo(126);
        assertThat(Fakes.strategy("global").admits(three.loads, 3).admits()).isEqualTo(126);
        // a small unit caps per-unit on it only, and the shared space of global
        CapacityPlan small = new CapacityPlan(List.of(load("a", 16, 100), load("b", 256, 100)), 1);
        assertThat(small.perUnitSum).isEqualTo(15 + 100);
        assertThat(Fakes.strategy("global").admits(small.loads, 1).admits()).isEqualTo(15);
        assertThatThrownBy(() -> new CapacityPlan(units, 0)).hasMessageContaining("expected 1 or more");
    }

    private static UnitLoad load(String id, int domainIds, int devices) {
        return new UnitLoad(new UnitDescriptor(id, domainIds, java.util.Set.of(iommu.api.DomainId.of(0))), devices);
    }

    @Test
    void errorsAreOneLineAndGogosRefusalsAreReworded() {
        assertThat(Errors.message(new IllegalArgumentException("line one\n  line two"))).isEqualTo("line one line two");
        assertThat(Errors.message(new InvocationTargetException(new IllegalStateException("deep"))))
                .isEqualTo("deep");
        assertThat(Errors.message(new NullPointerException())).isEqualTo(
                "NullPointerException (run with --debug for the stack trace)");
        assertThat(Errors.message(new IllegalArgumentException("Cannot coerce unit() to any of [(boolean, String)]")))
                .isEqualTo("unit: no argument given: expected 'unit [--json] ID' (see 'help unit')");
        assertThat(Errors.message(new IllegalArgumentException(
                "Cannot coerce units(Token, Token) to any of [(boolean)]")))
                .isEqualTo("units: 2 arguments given: expected 'units [--json]' (see 'help units')");
        assertThat(Errors.message(new IllegalArgumentException("Cannot coerce lb(Token) to any of [()]")))
                .isEqualTo("lb: 1 argument given: expected arguments of the types [()] (see 'help lb')");
        assertThat(Errors.message(new IllegalArgumentException("Command not found: frob")))
                .isEqualTo("unknown command 'frob': expected a command that 'help' lists");
    }

    @Test
    void progressIsQuietForAFastOperation() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try (Progress p = Progress.start(new PrintStream(err, true, StandardCharsets.UTF_8), "fast")) {
            p.status("renumbering 3 domain ids");
        }
        assertThat(err.toString(StandardCharsets.UTF_8)).isEmpty();
    }

    @Test
    void progressReportsASlowOperationOnStderr() throws Exception {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try (Progress p = Progress.start(new PrintStream(err, true, StandardCharsets.UTF_8), "switching", 50,
                () -> "2 units so far")) {
            Thread.sleep(400);
            assertThat(p.printed()).isTrue();
        }
        List<String> lines = err.toString(StandardCharsets.UTF_8).lines().toList();
        assertThat(lines.get(0)).matches("switching: 2 units so far \\(0 s\\)");
        assertThat(lines.get(lines.size() - 1)).matches("switching: done in \\d+\\.\\d s");
    }

    @Test
    void converterPrintsResultsAsTablesAndDtosOnOneLine() throws Exception {
        ConsoleConverter c = new ConsoleConverter();
        DeviceDTO d = new DeviceDTO();
        d.bdf = "0000:3b:00.1";
        d.unit = "dmar0";
        d.guest = 4;
        iommu.console.dto.DeviceListDTO devices = new iommu.console.dto.DeviceListDTO();
        devices.devices = List.of(d);
        assertThat(c.format(devices, Converter.INSPECT, null).toString()).startsWith("BDF");
        assertThat(c.format(devices, Converter.LINE, null)).isEqualTo("1 devices");
        assertThat(c.format(new Json(devices), Converter.INSPECT, null).toString()).startsWith("[");
        assertThat(c.format(new Json(devices), Converter.LINE, null)).isEqualTo("1 devices");
        assertThat(c.format(d, Converter.LINE, null)).isEqualTo("0000:3b:00.1 on dmar0, guest 4");
        assertThat(c.format(d, Converter.INSPECT, null)).isNull();
        assertThat(c.format("text", Converter.INSPECT, null)).isNull();
        assertThat(c.convert(String.class, "x")).isNull();
        // the typed arguments: a malformed word is said when the command takes it, in the parser's words
        assertThat(((DeviceArgument) c.convert(DeviceArgument.class, "3b:00.1")).value())
                .isEqualTo(iommu.api.PciAddress.parse("0000:3b:00.1"));
        assertThat(((GuestArgument) c.convert(GuestArgument.class, "7")).value().value()).isEqualTo(7);
        DeviceArgument bad = (DeviceArgument) c.convert(DeviceArgument.class, "zz");
        org.assertj.core.api.Assertions.assertThatThrownBy(bad::value).isExactlyInstanceOf(IllegalArgumentException.class)
                .hasMessage("malformed PCI address 'zz': expected SSSS:BB:DD.F in hexadecimal, e.g. 0000:3b:00.1");
        org.assertj.core.api.Assertions.assertThatThrownBy(((GuestArgument) c.convert(GuestArgument.class, "0"))::value)
                .hasMessageContaining("guest id 0 is the host");
        assertThat(c.convert(GuestArgument.class, new Object())).isNull();
    }

    @Test
    void shellCompletionDataComesFromTheAnnotations() {
        Map<String, List<CompletionData>> data = InteractiveShell.annotationCompletions(IommuCommands.class, "iommu");
        assertThat(data.keySet()).containsAll(CommandList.USAGE.keySet().stream().map(n -> "iommu:" + n).toList());
        assertThat(data.get("iommu:attach")).anySatisfy(
                c -> assertThat(c.options).containsExactly("--allow-reserved-memory"));
        assertThat(data.get("iommu:capacity")).anySatisfy(c -> assertThat(c.options).containsExactly("--devices-per-guest"));
        assertThat(data.get("iommu:units")).anySatisfy(c -> {
            assertThat(c.options).isNull();
            assertThat(c.description).startsWith("list the IOMMU units");
        });
    }
}
