package dev.ingot.cli;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ingot.progress.Progress;
import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** What every leaf command shares: the context, --json, and printing one result. */
abstract class BaseCommand implements Callable<Integer>, JsonOutput.Aware {
    protected final CliContext context;

    @Mixin
    JsonOutput jsonOutput = new JsonOutput();

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;

    BaseCommand(CliContext context) {
        this.context = requireNonNull(context, "context");
    }

    @Override
    public boolean json() {
        return jsonOutput.enabled;
    }

    Progress progress() {
        return TerminalProgress.forContext(context, json());
    }

    /** Prints the human text, or the JSON document with --json. */
    void emit(String human, JsonNode document) {
        if (json()) {
            JsonOutput.print(context.out(), document);
        } else {
            context.out().print(human.endsWith("\n") ? human : human + "\n");
            context.out().flush();
        }
    }
}
