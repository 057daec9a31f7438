package iommu.console;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import iommu.api.FlushService;
import iommu.api.GuestId;
import iommu.api.dto.FlushReportDTO;
import iommu.console.dto.DiscoveredDTO;

/**
 * Every {@code --json} shape the README documents ("--json shapes") is what
 * the command writes: the field names, in their order, at every level the
 * README spells out. The README is read, not copied here, so the two cannot
 * drift apart.
 */
class JsonShapesTest {

    static final Path README = Path.of("..", "README.md");

    private final FakeAssignment da = new FakeAssignment().bridgeGroup();
    private final IommuCommands cmd = new IommuCommands();

    JsonShapesTest() {
        cmd.assignment = da.api();
        cmd.domainIdMap = da.map();
        cmd.flushService = Fakes.proxy(FlushService.class, new Object() {
            public FlushReportDTO flushGuest(GuestId guest) {
                return da.flushReport(guest, "domain", null, null);
            }

            public FlushReportDTO flushPages(GuestId guest, long iova, long pages) {
                return da.flushReport(guest, "pages", iova, pages);
            }
        });
        cmd.unitServices = List.of(da.unit("dmar0"), da.unit("dmar1"));
        cmd.strategyServices = () -> List.of(
                new IommuCommands.StrategyService("global", "iommu.alloc.global", 0, Fakes.strategy("global")),
                new IommuCommands.StrategyService("per-unit", "iommu.alloc.perunit", 0, Fakes.strategy("per-unit")));
        cmd.discoveryServices = () -> List.of(da.discovery(new ArrayList<>()));
        cmd.attach(false, false, IommuCommandsTest.g("4"), IommuCommandsTest.d("0000:3b:00.1"),
                IommuCommandsTest.d("0000:5e:00.0"));
    }

    /** The README's shapes, by command: the code span of each "- NAME: `...`" line of the paragraph. */
    static Map<String, String> documentedShapes() throws IOException {
        String readme = Files.readString(README, StandardCharsets.UTF_8);
        int from = readme.indexOf("`--json` shapes");
        assertThat(from).as("the README's --json shapes paragraph").isPositive();
        Map<String, String> out = new LinkedHashMap<>();
        Matcher m = Pattern.compile("(?m)^- (\\w+): `([^`]*)`").matcher(readme.substring(from));
        while (m.find() && !out.containsKey(m.group(1))) {
            out.put(m.group(1), m.group(2));
        }
        return out;
    }

    @Test
    void everyDocumentedShapeIsWhatTheCommandWrites(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path platform = Files.writeString(dir.resolve("extra.txt"), "iommu-platform 1\n");
        Map<String, Object> results = new LinkedHashMap<>();
        results.put("units", cmd.units(true));
        results.put("unit", cmd.unit(true, "dmar0"));
        results.put("devices", cmd.devices(true));
        results.put("groups", cmd.groups(true));
        results.put("group", cmd.group(true, "0000:5e:00.2"));
        results.put("guests", cmd.guests(true));
        results.put("guest", cmd.guest(true, "4"));
        results.put("domains", cmd.domains(true, "dmar0"));
        results.put("ctx", cmd.ctx(true, IommuCommandsTest.d("0000:3b:00.1")));
        results.put("translate", cmd.translate(true, IommuCommandsTest.d("0000:3b:00.1"), "0x1000"));
        results.put("regions", cmd.regions(true, IommuCommandsTest.d("0000:3b:00.1")));
        results.put("flush", cmd.flush(true, IommuCommandsTest.g("4"), "0x1000", "1"));
        results.put("stats", cmd.stats(true));
        results.put("strategies", cmd.strategies(true));
        results.put("capacity", cmd.capacity(true, "1"));
        results.put("discover", cmd.discover(null, true, platform.toString()));
        results.put("state", cmd.state(true));

        Map<String, String> documented = documentedShapes();
        assertThat(documented.keySet()).containsExactlyElementsOf(results.keySet());
        for (Map.Entry<String, String> e : documented.entrySet()) {
            JsonElement json = JsonParser.parseString(Formats.text(results.get(e.getKey())));
            Shape shape = new ShapeParser(e.getValue()).value();
            shape.check(e.getKey(), json);
        }
    }

    @Test
    void addressesAreHexStringsAndMissingListsEmptyArrays() {
        JsonObject u = JsonParser.parseString(Formats.text(cmd.unit(true, "dmar1"))).getAsJsonObject();
        assertThat(u.get("registerBase").getAsString()).isEqualTo("0xfed91000");
        Object translated = cmd.translate(true, IommuCommandsTest.d("0000:3b:00.1"), "0x1000");
        JsonObject t = JsonParser.parseString(Formats.text(translated)).getAsJsonObject();
        assertThat(t.get("iova").getAsString()).isEqualTo("0x1000");
        DiscoveredDTO d = new DiscoveredDTO();
        JsonObject j = JsonParser.parseString(Formats.json(d)).getAsJsonObject();
        assertThat(j.get("units").getAsJsonArray()).isEmpty();
        assertThat(j.get("source").isJsonNull()).isTrue();
    }

    /** JSON goes out as UTF-8 even when the platform's charset cannot encode what it holds. */
    @Test
    void jsonIsWrittenAsUtf8WhateverTheDefaultCharset() {
        DiscoveredDTO d = new DiscoveredDTO();
        d.source = "/plates/caf\u00e9-\u20ac-\u4e2d.txt";
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream latin1 = new PrintStream(bytes, true, StandardCharsets.ISO_8859_1);
        CommandRunner.print(null, latin1, new Json(d));
        String written = bytes.toString(StandardCharsets.UTF_8);
        assertThat(written).contains("\"source\": \"/plates/caf\u00e9-\u20ac-\u4e2d.txt\"").endsWith("}"
                + System.lineSeparator());
        assertThat(JsonParser.parseString(written).getAsJsonObject().get("source").getAsString()).isEqualTo(d.source);
    }

    // ------------------------------------------------------------ the README's shape notation

    /** A documented shape: an object's field names (with the shapes of those it spells out), or an array of one. */
    record Shape(List<String> names, Map<String, Shape> nested, boolean array) {
        void check(String where, JsonElement json) {
            if (array) {
                assertThat(json.isJsonArray()).as(where + " is an array").isTrue();
                if (!json.getAsJsonArray().isEmpty() && names != null) {
                    new Shape(names, nested, false).check(where + "[0]", json.getAsJsonArray().get(0));
                }
                return;
            }
            if (names == null) {
                return; // {name: value}: a map, its keys are data
            }
            assertThat(json.isJsonObject()).as(where + " is an object").isTrue();
            JsonObject o = json.getAsJsonObject();
            if (where.endsWith(".allocations")) {
                assertThat(o.keySet()).as(where).containsExactlyInAnyOrderElementsOf(names); // the core's map
            } else {
                assertThat(List.copyOf(o.keySet())).as(where).containsExactlyElementsOf(names);
            }
            nested.forEach((k, s) -> s.check(where + "." + k, o.get(k)));
        }
    }

    /** Reads {@code [{"a", "b": [..], "c": {"d"}}]}, {@code {name: value}}, {@code [bdf]}. */
    static final class ShapeParser {
        private final String s;
        private int i;

        ShapeParser(String s) {
            this.s = s;
        }

        Shape value() {
            skip();
            char c = s.charAt(i);
            if (c == '[') {
                i++;
                skip();
                Shape inner = null;
                if (s.charAt(i) == '{') {
                    inner = object();
                } else {
                    while (s.charAt(i) != ']') {
                        i++; // [..], [bdf]: values, not fields
                    }
                }
                skip();
                expect(']');
                return new Shape(inner == null ? null : inner.names(), inner == null ? Map.of() : inner.nested(), true);
            }
            return object();
        }

        private Shape object() {
            expect('{');
            skip();
            if (s.charAt(i) != '"') {
                while (s.charAt(i) != '}') {
                    i++; // {name: value}: a map
                }
                i++;
                return new Shape(null, Map.of(), false);
            }
            List<String> names = new ArrayList<>();
            Map<String, Shape> nested = new LinkedHashMap<>();
            while (true) {
                skip();
                expect('"');
                int end = s.indexOf('"', i);
                String name = s.substring(i, end);
                i = end + 1;
                names.add(name);
                skip();
                if (s.charAt(i) == ':') {
                    i++;
                    nested.put(name, value());
                    skip();
                }
                if (s.charAt(i) == ',') {
                    i++;
                    continue;
                }
                expect('}');
                return new Shape(names, nested, false);
            }
        }

        private void skip() {
            while (i < s.length() && s.charAt(i) == ' ') {
                i++;
            }
        }

        private void expect(char c) {
            assertThat(s.charAt(i)).as("'" + c + "' at " + i + " of " + s).isEqualTo(c);
            i++;
        }
    }
}
