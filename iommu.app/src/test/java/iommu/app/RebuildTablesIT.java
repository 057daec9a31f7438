package iommu.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonParser;

/**
 * Issue 16: a damaged table file is refused, and the refusal names the way
 * out; {@code --rebuild-tables} refuses a damaged journal before setting
 * anything aside, and with a whole journal sets the file aside (renamed, its
 * bytes kept) and brings every journaled assignment and mapping back, DMA
 * checked page by page through the rebuilt tables.
 */
class RebuildTablesIT {

    @TempDir
    Path dir;

    /** Guest 1 on dmar0 and dmar1, guest 2 on dmar0: their pages (IOVA, host) as mapped. */
    static final String[][] MAPS = {{"1", "0x100000", "0x7f000000", "6"}, {"2", "0x200000", "0x6000000", "3"}};

    @Test
    void aDamagedTableFileIsRefusedAndRebuildTablesBringsEveryJournaledPageBack() throws Exception {
        Path state = dir.resolve("state");
        String setup = "iommu:attach 1 0000:18:10.0 0000:3b:00.2; iommu:attach 2 0000:18:10.1";
        for (String[] m : MAPS) {
            setup += "; iommu:map " + String.join(" ", m);
        }
        IommuJarIT.Run first = IommuJarIT.run("--state", state.toString(), "-c", setup);
        assertThat(first.exit()).as(first.err()).isZero();
        Path file = state.resolve("vtd/vtd-0000-00000000e0ffc000.tables");
        try (var ch = java.nio.channels.FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap("damaged!".getBytes()), 0); // over its signature
        }
        byte[] damaged = Files.readAllBytes(file);

        IommuJarIT.Run refused = IommuJarIT.run("--state", state.toString(), "-c", "iommu:guests");
        assertThat(refused.exit()).isEqualTo(1);
        assertThat(refused.errLines()).singleElement().asString().isEqualTo("--state '" + state + "': vt-d units:"
                + " unit dmar0: table file " + file + " refused: no IOMMU-VT-D-TABLE signature at offset 0: expected a"
                + " table file written by this platform; --rebuild-tables (configuration rebuildTables) sets the file"
                + " aside and rebuilds the unit's tables from the journal");

        // a damaged journal: nothing to rebuild from, so nothing is set aside
        Path journal = state.resolve("journal");
        byte[] whole = Files.readAllBytes(journal);
        List<String> lines = new ArrayList<>(Files.readAllLines(journal));
        lines.set(1, "0" + lines.get(1).substring(1).replace("attach", "attack"));
        Files.write(journal, lines);
        IommuJarIT.Run noJournal = IommuJarIT.run("--state", state.toString(), "--rebuild-tables", "-c", "iommu:state");
        assertThat(noJournal.exit()).isEqualTo(1);
        assertThat(noJournal.errLines()).singleElement().asString().startsWith("--state '" + state + "'"
                + " --rebuild-tables: the tables are not rebuilt (nothing was set aside): " + journal + ":2: damaged"
                + " record");
        assertThat(Files.readAllBytes(file)).isEqualTo(damaged);
        assertThat(setAside(state)).isEmpty();
        Files.write(journal, whole);

        StringBuilder probes = new StringBuilder("iommu:state --json; iommu:verify; iommu:guests");
        List<String> expected = new ArrayList<>();
        for (String[] m : MAPS) {
            List<String> devices = m[0].equals("1") ? List.of("0000:18:10.0", "0000:3b:00.2") : List.of("0000:18:10.1");
            for (String device : devices) {
                for (int page = 0; page <= Integer.parseInt(m[3]); page++) { // and the page after: a fault
                    long iova = Long.decode(m[1]) + page * 0x1000L;
                    probes.append(String.format("; iommu:translate %s 0x%x", device, iova));
                    expected.add(page < Integer.parseInt(m[3])
                            ? String.format("IOVA 0x%x -> host 0x%x", iova, Long.decode(m[2]) + page * 0x1000L)
                            : String.format("IOVA 0x%x -> fault 0x6", iova));
                }
            }
        }
        IommuJarIT.Run rebuilt = IommuJarIT.run("--state", state.toString(), "--rebuild-tables", "-c",
                probes.toString());
        assertThat(rebuilt.exit()).as(rebuilt.err()).isZero();
        Path aside = setAside(state).get(0);
        assertThat(Files.readAllBytes(aside)).as("the refused file, kept aside as it was").isEqualTo(damaged);
        assertThat(rebuilt.errLines()).singleElement().asString().isEqualTo("--state " + state + ": warning: unit"
                + " dmar0: table file " + file + " refused: no IOMMU-VT-D-TABLE signature at offset 0: expected a"
                + " table file written by this platform; set aside as " + aside.getFileName());
        String out = rebuilt.out();
        var report = JsonParser.parseString(out.substring(0, out.indexOf("\n}") + 2)).getAsJsonObject();
        assertThat(report.get("problems").getAsJsonArray()).isEmpty();
        assertThat(report.get("rebuilt").getAsJsonArray()).singleElement().extracting(e -> e.getAsString())
                .asString().startsWith("unit dmar0: table file " + file + " refused: ")
                .endsWith("; set aside as " + aside.getFileName() + "; its tables are rebuilt from the journal");
        List<String> rest = out.substring(out.indexOf("\n}") + 3).lines().toList();
        assertThat(rest.get(0)).isEqualTo("ok: map, strategy bitmaps and 5 units' context entries agree");
        assertThat(rest.subList(1, 5)).containsExactly("GUEST  BDF           UNIT   DID",
                "    1  0000:18:10.0  dmar0    2", "    1  0000:3b:00.2  dmar1    2", "    2  0000:18:10.1  dmar0    3");
        List<String> dma = rest.subList(5, rest.size());
        assertThat(dma).hasSameSizeAs(expected);
        for (int i = 0; i < expected.size(); i++) {
            assertThat(dma.get(i)).contains(expected.get(i));
        }
    }

    static List<Path> setAside(Path state) throws Exception {
        try (var files = Files.list(state.resolve("vtd"))) {
            return files.filter(p -> p.getFileName().toString().contains(".tables.refused-")).toList();
        }
    }
}
