import type { GrouppeClient } from "@grouppe/client";
import type { CliIo } from "./cli-io.js";
import { connect } from "./connection.js";
import type { GlobalOptions } from "./global-options.js";
import { tokenSource } from "./session.js";

/** What a command's action gets: the io, its options, and clients made on first use. */
export class CommandContext {
  #client: GrouppeClient | undefined;
  #anonymous: GrouppeClient | undefined;

  constructor(
    readonly io: CliIo,
    readonly options: GlobalOptions,
  ) {}

  /** Whether to print JSON for scripts. */
  get json(): boolean {
    return this.options.json === true;
  }

  /** A client that signs calls with the saved or GROUPPE_TOKEN token, when there is one. */
  client(): GrouppeClient {
    this.#client ??= connect(
      this.options,
      this.io,
      tokenSource(this.io, () => this.anonymous()),
    );
    return this.#client;
  }

  /** A client that sends no token (sign-in, refresh). */
  anonymous(): GrouppeClient {
    this.#anonymous ??= connect(this.options, this.io);
    return this.#anonymous;
  }

  /** Writes one line to stdout. */
  print(line: string): void {
    this.io.stdout.write(`${line}\n`);
  }

  /** Writes one JSON document (or one JSON line of a stream) to stdout. */
  printJson(value: unknown): void {
    this.io.stdout.write(`${JSON.stringify(value)}\n`);
  }

  /** Writes a note for the person at the terminal to stderr; never mixed into the output. */
  note(line: string): void {
    this.io.stderr.write(`${line}\n`);
  }

  close(): void {
    this.#client?.close();
    this.#anonymous?.close();
  }
}
