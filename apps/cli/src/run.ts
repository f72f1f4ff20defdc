import { Command, CommanderError, Option } from "commander";
import { describeFailure } from "./cli-error.js";
import type { CliIo } from "./cli-io.js";
import { CommandContext } from "./command-context.js";
import { type Action, splitActionArgs } from "./commands/action.js";
import { registerAuth } from "./commands/auth.js";
import { registerEvents } from "./commands/events.js";
import { registerHealth } from "./commands/health.js";
import { registerImport } from "./commands/import.js";
import { registerRsvp } from "./commands/rsvp.js";
import { registerWatch } from "./commands/watch.js";
import { defaultAddress } from "./connection.js";
import { ExitCode, exitCodesHelp } from "./exit-codes.js";
import type { GlobalOptions } from "./global-options.js";
import { parseMs } from "./parse-values.js";

const environmentHelp = `
Environment:
  GROUPPE_ADDRESS     server addresses, comma-separated (default ${defaultAddress})
  GROUPPE_CA          PEM file of the CA that signed the server certificate
  GROUPPE_CERT        PEM file of a client certificate (mTLS), with GROUPPE_KEY
  GROUPPE_KEY         PEM file of the client certificate's key
  GROUPPE_TOKEN       access token to use instead of the session saved by \`grouppe login\`
  GROUPPE_CONFIG_DIR  where \`login\` keeps the session (default ~/.config/grouppe)`;

/** Builds the `grouppe` command tree; `setExitCode` receives what an action returns. */
function createProgram(io: CliIo, setExitCode: (code: ExitCode) => void): Command {
  const program = new Command("grouppe")
    .description(
      "grouppe from the terminal: events, RSVPs, live changes and bulk imports over gRPC",
    )
    .version("0.1.0", "-V, --version")
    .addOption(
      new Option(
        "--address <list>",
        `server addresses, comma-separated (default ${defaultAddress})`,
      ),
    )
    .option("--ca <file>", "PEM of the CA that signed the server certificate (TLS)")
    .option("--cert <file>", "PEM of your client certificate (mTLS)")
    .option("--key <file>", "PEM of your client certificate's key")
    .option("--json", "print JSON for scripts: one document, or one line per streamed message")
    .option("--timeout <ms>", "deadline of each call in ms (default 5000)", parseMs)
    .addHelpText("after", `${environmentHelp}\n\n${exitCodesHelp}`)
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    });

  const action: Action =
    (body) =>
    async (...actionArgs) => {
      const { args, opts, command } = splitActionArgs(actionArgs);
      const ctx = new CommandContext(io, command.optsWithGlobals() as GlobalOptions);
      try {
        const code = await body(ctx, args, opts);
        setExitCode(code ?? ExitCode.ok);
      } finally {
        ctx.close();
      }
    };

  registerEvents(program, action);
  registerRsvp(program, action);
  registerWatch(program, action);
  registerImport(program, action);
  registerHealth(program, action);
  registerAuth(program, action);
  // Every subcommand reports errors the same way and never exits the process itself.
  for (const command of program.commands) inherit(command, program);
  return program;
}

function inherit(command: Command, program: Command): void {
  command
    .exitOverride()
    .configureOutput(program.configureOutput())
    .showHelpAfterError("(run with --help for usage)");
  for (const sub of command.commands) inherit(sub, program);
}

/**
 * Runs `grouppe` with `argv` (the arguments after the program name) and returns the exit
 * status; it never calls process.exit, so tests run it in-process.
 *
 * @example
 * const code = await run(["events", "list", "--json"], { stdout, stderr, stdin, env });
 */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  let exitCode: ExitCode = ExitCode.ok;
  const program = createProgram(io, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync([...argv], { from: "user" });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here too, with exit code 0.
      return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    if (io.signal?.aborted) return ExitCode.interrupted;
    const { message, exitCode: code } = describeFailure(error);
    io.stderr.write(`grouppe: ${message}\n`);
    return code;
  }
}
