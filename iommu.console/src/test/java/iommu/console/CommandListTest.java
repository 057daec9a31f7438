package iommu.console;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.felix.service.command.Descriptor;
import org.junit.jupiter.api.Test;

/**
 * The command list lives once, in {@link CommandList}: the Gogo registration,
 * the command methods, help and completion, the usage in errors and the
 * README's commands table all agree with it.
 */
class CommandListTest {

    @Test
    void gogoIsToldExactlyTheListedNames() {
        var props = CommandList.serviceProperties();
        assertThat(props.get("osgi.command.scope")).isEqualTo("iommu");
        assertThat((String[]) props.get("osgi.command.function")).containsExactlyElementsOf(CommandList.names());
    }

    @Test
    void theCommandMethodsAreTheListedNames() {
        Set<String> methods = new TreeSet<>();
        for (Method m : IommuCommands.class.getMethods()) {
            if (m.getDeclaringClass() == IommuCommands.class && !Modifier.isStatic(m.getModifiers())
                    && m.isAnnotationPresent(Descriptor.class)) {
                methods.add(m.getName());
            }
        }
        assertThat(methods).containsExactlyInAnyOrderElementsOf(CommandList.names());
        // every public method Gogo could call is a listed command (no helper leaks into the shell)
        Set<String> others = new TreeSet<>();
        for (Method m : IommuCommands.class.getMethods()) {
            if (m.getDeclaringClass() == IommuCommands.class && !CommandList.names().contains(m.getName())) {
                others.add(m.getName());
            }
        }
        assertThat(others).isEmpty();
    }

    @Test
    void helpAndCompletionListTheSameCommands() {
        assertThat(InteractiveShell.annotationCompletions(IommuCommands.class, "iommu").keySet())
                .containsExactlyInAnyOrderElementsOf(CommandList.names().stream().map(n -> "iommu:" + n).toList());
    }

    @Test
    void theReadmeTableIsTheUsageInOrder() throws Exception {
        String readme = Files.readString(JsonShapesTest.README, StandardCharsets.UTF_8);
        String table = readme.substring(readme.indexOf("### Commands (scope `iommu`)"));
        table = table.substring(0, table.indexOf("\n\n", table.indexOf("| command |")));
        List<String> rows = new ArrayList<>();
        Matcher m = Pattern.compile("(?m)^\\| `([^`]+)` \\|").matcher(table);
        while (m.find()) {
            rows.add(m.group(1).replace("\\|", "|")); // a table cell escapes its pipes
        }
        assertThat(rows).containsExactlyElementsOf(CommandList.USAGE.values());
        for (String name : CommandList.names()) {
            assertThat(CommandList.USAGE.get(name)).as(name).startsWith(name);
        }
    }

    @Test
    void usageErrorsNameTheListedSynopsis() {
        assertThat(Errors.message(new IllegalArgumentException("Cannot coerce occupancy(Token, Token) to any of [()]")))
                .isEqualTo("occupancy: 2 arguments given: expected 'occupancy [UNIT]' (see 'help occupancy')");
        assertThat(Arrays.asList(CommandList.names().toArray())).hasSize(CommandList.USAGE.size());
    }
}
