import type { Command } from "commander";
import type { CommandContext } from "../command-context.js";
import type { ExitCode } from "../exit-codes.js";

/** A command's body: its positional arguments and its own options; returns a non-zero exit status. */
export type ActionBody = (
  ctx: CommandContext,
  args: string[],
  opts: Record<string, unknown>,
) => Promise<ExitCode | undefined>;

/** Turns a command body into a commander action handler. */
export type Action = (body: ActionBody) => (...actionArgs: unknown[]) => Promise<void>;

/** Splits commander's action arguments: positionals…, options, command. */
export function splitActionArgs(actionArgs: unknown[]): {
  args: string[];
  opts: Record<string, unknown>;
  command: Command;
} {
  const command = actionArgs.at(-1) as Command;
  const opts = actionArgs.at(-2) as Record<string, unknown>;
  return { args: actionArgs.slice(0, -2) as string[], opts, command };
}
