import { Code } from "@connectrpc/connect";

/**
 * The exit status of every `grouppe` command: one per class of failure, so a script can tell
 * "try again later" from "fix the input" without reading the message. Listed in `--help` and
 * in the README.
 */
export const ExitCode = {
  /** The command did what it was asked. */
  ok: 0,
  /** Something unexpected went wrong (a bug, or an INTERNAL / UNKNOWN answer). */
  failed: 1,
  /** The command line was wrong: unknown flag, missing argument, unreadable file. */
  usage: 2,
  /** The server could not be reached in time (UNAVAILABLE, DEADLINE_EXCEEDED). */
  unavailable: 3,
  /** Not signed in, or not allowed (UNAUTHENTICATED, PERMISSION_DENIED). */
  denied: 4,
  /** The event (or other resource) does not exist (NOT_FOUND). */
  notFound: 5,
  /** The server refused the request as it stands (INVALID_ARGUMENT, FAILED_PRECONDITION, ABORTED, …). */
  rejected: 6,
  /** An import finished, but some rows were not imported. */
  partlyFailed: 7,
  /** Interrupted by Ctrl-C before the command finished. */
  interrupted: 130,
} as const;

/** One exit status. */
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** The exit status for a call that failed with `code`. */
export function exitCodeOf(code: Code): ExitCode {
  switch (code) {
    case Code.Unavailable:
    case Code.DeadlineExceeded:
      return ExitCode.unavailable;
    case Code.Unauthenticated:
    case Code.PermissionDenied:
      return ExitCode.denied;
    case Code.NotFound:
      return ExitCode.notFound;
    case Code.InvalidArgument:
    case Code.FailedPrecondition:
    case Code.AlreadyExists:
    case Code.Aborted:
    case Code.OutOfRange:
    case Code.ResourceExhausted:
      return ExitCode.rejected;
    case Code.Canceled:
      return ExitCode.interrupted;
    default:
      return ExitCode.failed;
  }
}

/** The exit codes as `--help` lists them. */
export const exitCodesHelp = `Exit codes:
  0    ok
  1    unexpected error
  2    usage: bad flags or arguments, unreadable file
  3    server unreachable or too slow (UNAVAILABLE, DEADLINE_EXCEEDED)
  4    not signed in or not allowed (UNAUTHENTICATED, PERMISSION_DENIED)
  5    not found
  6    request refused (INVALID_ARGUMENT, FAILED_PRECONDITION, ABORTED, RESOURCE_EXHAUSTED)
  7    import partly failed: some rows were not imported
  130  interrupted (Ctrl-C)`;
