import { Code, ConnectError } from "@connectrpc/connect";
import { ExitCode, exitCodeOf } from "./exit-codes.js";

/** A failure the CLI reports in one line, with the exit status it ends with. */
export class CliError extends Error {
  override readonly name = "CliError";
  constructor(
    message: string,
    readonly exitCode: ExitCode,
  ) {
    super(message);
  }
}

/** What to do about a failed call, by its code. */
const hints: Partial<Record<Code, string>> = {
  [Code.Unavailable]:
    "check --address (or GROUPPE_ADDRESS) and that the server is running, then try again",
  [Code.DeadlineExceeded]: "the server took too long; try again or raise --timeout",
  [Code.Unauthenticated]: "run `grouppe login` or set GROUPPE_TOKEN",
  [Code.PermissionDenied]:
    "your account or certificate may not do this (imports need a client certificate: --cert and --key)",
  [Code.Aborted]: "the event changed meanwhile; get it again and retry with its new etag",
  [Code.ResourceExhausted]: "slow down and try again in a moment",
};

/** A status code as gRPC spells it, e.g. DEADLINE_EXCEEDED. */
export function codeName(code: Code): string {
  return (Code[code] ?? String(code)).replace(/(?<=[a-z])(?=[A-Z])/g, "_").toUpperCase();
}

/** The one-line message and exit status for anything a command threw. */
export function describeFailure(error: unknown): { message: string; exitCode: ExitCode } {
  if (error instanceof CliError) return { message: error.message, exitCode: error.exitCode };
  if (error instanceof ConnectError) {
    const hint = hints[error.code];
    const what = `${error.rawMessage} (${codeName(error.code)})`;
    return {
      message: hint ? `${what}: ${hint}` : what,
      exitCode: exitCodeOf(error.code),
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { message, exitCode: ExitCode.failed };
}
