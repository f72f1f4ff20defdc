import { createInterface } from "node:readline/promises";
import { Writable } from "node:stream";
import type { CliIo } from "./cli-io.js";

/** Reads all of stdin and returns its first line: `echo "$PASSWORD" | grouppe login --password-stdin`. */
export async function passwordFromStdin(io: CliIo): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of io.stdin) {
    chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer));
  }
  return (Buffer.concat(chunks).toString("utf8").split(/\r?\n/)[0] ?? "").trim();
}

/** Asks for the password on the terminal without echoing it. */
export async function promptPassword(io: CliIo): Promise<string> {
  io.stderr.write("Password: ");
  // Typed characters must not appear on the screen: readline writes them to a sink.
  const silent = new Writable({ write: (_chunk, _encoding, done) => done() });
  const prompt = createInterface({ input: io.stdin, output: silent, terminal: true });
  try {
    return await prompt.question("");
  } finally {
    prompt.close();
    io.stderr.write("\n");
  }
}
