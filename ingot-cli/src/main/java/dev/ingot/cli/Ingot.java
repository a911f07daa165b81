package dev.ingot.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * The root {@code ingot} command. {@link #newCommandLine} is the one factory main and tests use.
 * Exit codes are a contract (README, "What works today"): 0 ok, 1 a check failed, 2 bad input, 3 unexpected state,
 * 4 internal error.
 */
@Command(name = "ingot",
        mixinStandardHelpOptions = true,
        versionProvider = Ingot.Version.class,
        description = {
            "Golden disk images for fleets of GPU edge devices: publish, verify, catalog, flash, cache, roll back,",
            "provision; the control plane (server, site, device, token, rollout); the device agent and a simulated fleet;",
            "and all of it on one machine (demo).",
            "",
            "Every command has --help and --json. Exit codes: 0 ok, 1 a check failed, 2 bad input,",
            "3 unexpected state (e.g. already published, store unreachable), 4 internal error."
        },
        subcommands = {KeysCommand.class, ImageCommand.class, FlashCommand.class, CacheCommand.class, RollbackCommand.class,
            ProvisionCommand.class, HealthCommand.class, ServerCommand.class, SiteCommand.class, DeviceCommand.class, TokenCommand.class,
            RolloutCommand.class, AgentCommand.class, SimCommand.class, DemoCommand.class,
            CommandLine.HelpCommand.class},
        usageHelpWidth = 110)
public final class Ingot implements Runnable {
    static final ObjectMapper JSON = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS);

    @Option(names = "--stacktrace", scope = ScopeType.INHERIT, description = "On an error, print the Java stack trace too.")
    boolean stacktrace;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "Missing a command: try 'ingot image publish' or 'ingot --help'");
    }

    public static CommandLine newCommandLine(CliContext context) {
        CommandLine commandLine = new CommandLine(new Ingot(), new ContextFactory(context));
        commandLine.setOut(context.out());
        commandLine.setErr(context.err());
        commandLine.setCaseInsensitiveEnumValuesAllowed(true);
        commandLine.setUsageHelpWidth(110);
        commandLine.setUsageHelpLongOptionsMaxWidth(30);
        commandLine.setExecutionExceptionHandler((exception, line, parseResult) -> handle(exception, line, context));
        commandLine.setParameterExceptionHandler((exception, args) -> {
            CommandLine line = exception.getCommandLine();
            context.err().println("error: " + exception.getMessage());
            context.err().println("Run '" + line.getCommandSpec().qualifiedName() + " --help' for usage.");
            return ErrorCode.BAD_INPUT.exitCode();
        });
        return commandLine;
    }

    private static int handle(Exception exception, CommandLine line, CliContext context) {
        IngotException error = exception instanceof IngotException ingot ? ingot
                : IngotException.tried(ErrorCode.INTERNAL, "run '" + line.getCommandSpec().qualifiedName() + "'",
                                "of an unexpected error: " + exception)
                        .withHint("rerun with --stacktrace and report it");
        context.err().println("error: " + error.oneLine());
        Ingot root = line.getCommandSpec().root().userObject() instanceof Ingot ingot ? ingot : null;
        if (root != null && root.stacktrace) {
            exception.printStackTrace(context.err());
        }
        Object command = line.getCommandSpec().userObject();
        if (command instanceof JsonOutput.Aware aware && aware.json()) {
            ObjectNode document = JSON.createObjectNode();
            ObjectNode errorNode = document.putObject("error");
            errorNode.put("code", error.code().name());
            errorNode.put("exit_code", error.code().exitCode());
            errorNode.put("message", error.getMessage());
            error.hint().ifPresent(hint -> errorNode.put("hint", hint));
            JsonOutput.print(context.out(), document);
        }
        context.err().flush();
        return error.code().exitCode();
    }

    /** Hands the context to every command that asks for it in its constructor. */
    private record ContextFactory(CliContext context) implements CommandLine.IFactory {
        @Override
        public <K> K create(Class<K> type) throws Exception {
            try {
                return type.getDeclaredConstructor(CliContext.class).newInstance(context);
            } catch (NoSuchMethodException e) {
                return CommandLine.defaultFactory().create(type);
            }
        }
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String version = Ingot.class.getPackage().getImplementationVersion();
            return new String[] {"ingot " + (version == null ? "development build" : version),
                "Java " + Runtime.version() + " (" + System.getProperty("java.vendor") + ")"};
        }
    }
}
