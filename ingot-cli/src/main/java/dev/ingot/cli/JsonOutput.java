package dev.ingot.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import picocli.CommandLine.Option;

/** The {@code --json} switch every command mixes in, and how one JSON document is printed. */
public final class JsonOutput {
    /** A command that can say whether it was asked for JSON (errors are then JSON too). */
    public interface Aware {
        boolean json();
    }

    @Option(names = "--json", description = "Print one JSON document instead of the human summary.")
    boolean enabled;

    static void print(PrintWriter out, JsonNode document) {
        try {
            Object plain = Ingot.JSON.treeToValue(document, Object.class);
            out.println(Ingot.JSON.writeValueAsString(plain));
            out.flush();
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** One JSON object on one line (JSON Lines), for commands that run long and print a line now and then (agent, sim). */
    static void printLine(PrintWriter out, JsonNode document) {
        try {
            out.println(LINE.writeValueAsString(document));
            out.flush();
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static final com.fasterxml.jackson.databind.ObjectMapper LINE = new com.fasterxml.jackson.databind.ObjectMapper();
}
