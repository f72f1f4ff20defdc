import { type ChildProcess, fork } from "node:child_process";
import { moduleCommand } from "./paths.js";

/** A message between the bench and one of its child processes. */
export interface ChildMessage {
  type: string;
  [key: string]: unknown;
}

/** Starts a module of this package in its own Node process with an IPC channel. */
export function forkModule(
  modulePath: string,
  options: { args?: string[]; execArgv?: string[]; env?: NodeJS.ProcessEnv } = {},
): ChildProcess {
  const command = moduleCommand(modulePath);
  return fork(command.file, options.args ?? [], {
    execArgv: [...command.execArgv, ...(options.execArgv ?? [])],
    env: options.env ?? process.env,
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
}

/**
 * Waits for the child's next message of `type`. Rejects when the child exits first, reports
 * an `error` message, or `timeoutMs` passes.
 */
export function nextMessage<T extends { type: string }>(
  child: ChildProcess,
  type: string,
  timeoutMs: number,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      clearTimeout(timer);
      child.off("message", onMessage);
      child.off("exit", onExit);
    };
    const onMessage = (message: ChildMessage) => {
      if (message.type === "error") {
        cleanup();
        reject(new Error(String(message.message)));
      } else if (message.type === type) {
        cleanup();
        resolve(message as T);
      }
    };
    const onExit = (code: number | null, signal: string | null) => {
      cleanup();
      reject(new Error(`child exited (${signal ?? code}) before sending "${type}"`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no "${type}" message from the child within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on("message", onMessage);
    child.once("exit", onExit);
  });
}

/** Ends a child: SIGTERM, then SIGKILL if it is still there after `graceMs`. */
export async function stopChild(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}

/**
 * The child side: runs `handler` for every message of `type` and answers with its result
 * (`{ type: replyType, ...result }`) or `{ type: "error", message }`.
 */
export function serveParent<T extends { type: string }>(
  type: string,
  replyType: string,
  handler: (message: T) => Promise<Record<string, unknown>>,
): void {
  process.on("message", (message: ChildMessage) => {
    if (message.type !== type) return;
    handler(message as T).then(
      (result) => process.send?.({ type: replyType, ...result }),
      (error: unknown) =>
        process.send?.({
          type: "error",
          message: error instanceof Error ? error.stack : String(error),
        }),
    );
  });
}

/** The child side: tells the parent it is ready, with whatever it needs to know. */
export function reportReady(details: Record<string, unknown> = {}): void {
  // A child outliving the bench would skew the next run, so it follows the parent out.
  process.once("disconnect", () => process.exit(0));
  process.send?.({ type: "ready", ...details });
}
