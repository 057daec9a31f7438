package iommu.api.baseline;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import aQute.bnd.differ.Baseline;
import aQute.bnd.differ.DiffPluginImpl;
import aQute.bnd.header.Parameters;
import aQute.bnd.osgi.Builder;
import aQute.bnd.osgi.Instructions;
import aQute.bnd.osgi.Jar;
import aQute.bnd.osgi.Processor;
import aQute.bnd.service.diff.Delta;

/**
 * The API baseline that {@code mvn verify} runs (bnd-baseline-maven-plugin in
 * iommu.api/pom.xml) catches what it is there for. The plugin runs bnd's
 * {@link Baseline} on the packaged bundle against the committed baseline jar
 * and fails the build on any package it marks as a mismatch; this test runs
 * the same {@link Baseline}, configured the same way (Bundle-Version ignored),
 * on this module's sources with one method removed from an exported type:
 * without a major bump of its package that is a mismatch, with one it is not.
 * It also fails when a package of the baseline is no longer exported, which
 * the plugin, ignoring the bundle version, does not check.
 */
class BaselineTest {

    /** The committed baseline jar; the pom passes its path (api.baseline.version). */
    private static final Path BASELINE = Paths.get(System.getProperty("api.baseline.jar",
            "baseline/repository/iommu/iommu.api/1.0.0-bd86ade/iommu.api-1.0.0-bd86ade.jar"));
    private static final Path SOURCES = Paths.get("src/main/java");
    private static final Path CLASSES = Paths.get("target/classes");

    @TempDir
    static Path work;

    @BeforeAll
    static void baselineIsThere() {
        assertThat(BASELINE).as("the baseline jar (iommu.api/baseline/regenerate.sh makes it)").isRegularFile();
    }

    /** What the plugin decides, package by package: the package infos bnd marks as a mismatch. */
    private static Map<String, Baseline.Info> baseline(Jar newer) throws Exception {
        try (Processor processor = new Processor(); Jar older = new Jar(BASELINE.toFile())) {
            DiffPluginImpl differ = new DiffPluginImpl();
            differ.setIgnore(new Parameters("Bundle-Version", processor));
            Baseline baseliner = new Baseline(processor, differ);
            return baseliner.baseline(newer, older, new Instructions(new Parameters("*", processor))).stream()
                    .collect(Collectors.toMap(i -> i.packageName, Function.identity()));
        }
    }

    /** The bundle bnd makes of these classes, as bnd-maven-plugin makes iommu.api (exports from package-info). */
    private static Jar bundle(Path classes) throws Exception {
        Builder builder = new Builder();
        builder.setProperty("Bundle-SymbolicName", "iommu.api");
        builder.setProperty("Bundle-Version", "1.0.0.SNAPSHOT");
        builder.setJar(new Jar(classes.toFile()));
        Jar jar = builder.build();
        assertThat(builder.getErrors()).isEmpty();
        return jar;
    }

    /** This module's main sources, with each edit applied to its file, compiled into a fresh directory. */
    private static Path compileEdited(String name, Map<String, Function<String, String>> edits) throws IOException {
        Path src = work.resolve(name + "-src");
        Path out = work.resolve(name + "-classes");
        List<String> files = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(SOURCES)) {
            for (Path p : walk.filter(Files::isRegularFile).toList()) {
                Path copy = src.resolve(SOURCES.relativize(p).toString());
                Files.createDirectories(copy.getParent());
                String text = Files.readString(p, StandardCharsets.UTF_8);
                String file = SOURCES.relativize(p).toString().replace(File.separatorChar, '/');
                if (edits.containsKey(file)) {
                    String edited = edits.get(file).apply(text);
                    assertThat(edited).as("the edit of %s", file).isNotEqualTo(text);
                    text = edited;
                }
                Files.writeString(copy, text, StandardCharsets.UTF_8);
                files.add(copy.toString());
            }
        }
        Files.createDirectories(out);
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        List<String> args = new ArrayList<>(List.of("--release", "17", "-proc:none", "-nowarn", "-d", out.toString(),
                "-cp", System.getProperty("java.class.path")));
        args.addAll(files);
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        int rc = javac.run(null, log, log, args.toArray(String[]::new));
        assertThat(rc).as("javac: %s", log).isZero();
        return out;
    }

    private static final String DOMAIN_ID_MAP = "iommu/api/DomainIdMap.java";

    private static String withoutGuests(String domainIdMap) {
        return domainIdMap.replace("    Set<GuestId> guests();\n", "");
    }

    @Test
    void theApiAsBuiltKeepsItsBaseline() throws Exception {
        assertThat(CLASSES.resolve("iommu/api/DomainIdMap.class")).isRegularFile();
        try (Jar jar = bundle(CLASSES)) {
            Map<String, Baseline.Info> infos = baseline(jar);
            assertThat(infos).containsKeys("iommu.api", "iommu.api.dto", "iommu.api.spi", "iommu.api.spi.support");
            assertThat(infos.values()).noneMatch(i -> i.mismatch);
            // With Bundle-Version ignored (every bundle here is 1.0.0-SNAPSHOT) the plugin lets
            // a package that is no longer exported pass: it compares only the packages there are.
            assertThat(infos.values()).as("exported packages of the baseline that are exported no more")
                    .noneMatch(i -> i.packageDiff.getDelta() == Delta.REMOVED);
        }
    }

    @Test
    void aRemovedMethodWithoutAMajorBumpIsAMismatch() throws Exception {
        Path classes = compileEdited("removed", Map.of(DOMAIN_ID_MAP, BaselineTest::withoutGuests));
        try (Jar jar = bundle(classes)) {
            Baseline.Info api = baseline(jar).get("iommu.api");
            assertThat(api.mismatch).as("iommu.api without DomainIdMap.guests() at 1.2.0").isTrue();
            assertThat(api.newerVersion).hasToString("1.2.0");
            assertThat(api.suggestedVersion).hasToString("2.0.0");
        }
    }

    @Test
    void theSameRemovalWithAMajorBumpIsNot() throws Exception {
        Path classes = compileEdited("bumped", Map.of(DOMAIN_ID_MAP, BaselineTest::withoutGuests,
                "iommu/api/package-info.java", s -> s.replace("@Version(\"1.2.0\")", "@Version(\"2.0.0\")")));
        try (Jar jar = bundle(classes)) {
            Baseline.Info api = baseline(jar).get("iommu.api");
            assertThat(api.mismatch).isFalse();
            assertThat(api.newerVersion).hasToString("2.0.0");
        }
    }
}
