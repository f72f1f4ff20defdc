import { readFileSync } from "node:fs";
import { createGrouppeClient, type GrouppeClient, type TlsOptions } from "@grouppe/client";
import { CliError } from "./cli-error.js";
import type { CliIo } from "./cli-io.js";
import { ExitCode } from "./exit-codes.js";
import type { GlobalOptions } from "./global-options.js";

/** Where `grouppe` connects when neither --address nor GROUPPE_ADDRESS says. */
export const defaultAddress = "http://localhost:8080";

/** The server addresses as URLs; "host:port" gets https:// with TLS material, else http://. */
export function resolveAddresses(options: GlobalOptions, io: CliIo, tls: boolean): string[] {
  const raw = options.address ?? io.env.GROUPPE_ADDRESS ?? defaultAddress;
  const addresses = raw
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "")
    .map((entry) => (/^https?:\/\//.test(entry) ? entry : `${tls ? "https" : "http"}://${entry}`));
  if (addresses.length === 0) {
    throw new CliError(
      "--address is empty: give one or more addresses, e.g. --address https://grouppe.internal:8443",
      ExitCode.usage,
    );
  }
  for (const address of addresses) {
    const url = URL.parse(address);
    if (url === null || url.hostname === "") {
      throw new CliError(
        `--address "${address}" is not a server address, e.g. https://grouppe.internal:8443`,
        ExitCode.usage,
      );
    }
  }
  return addresses;
}

function pemFile(flag: string, path: string | undefined): Buffer | undefined {
  if (path === undefined || path === "") return undefined;
  try {
    return readFileSync(path);
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new CliError(`${flag} ${path} cannot be read (${why}): give a PEM file`, ExitCode.usage);
  }
}

/** TLS material from --ca/--cert/--key or GROUPPE_CA/GROUPPE_CERT/GROUPPE_KEY. */
export function resolveTls(options: GlobalOptions, io: CliIo): TlsOptions | undefined {
  const ca = pemFile("--ca", options.ca ?? io.env.GROUPPE_CA);
  const cert = pemFile("--cert", options.cert ?? io.env.GROUPPE_CERT);
  const key = pemFile("--key", options.key ?? io.env.GROUPPE_KEY);
  if ((cert === undefined) !== (key === undefined)) {
    throw new CliError("--cert and --key go together: give both or neither", ExitCode.usage);
  }
  if (ca === undefined && cert === undefined) return undefined;
  return { ca, cert, key };
}

/** A client for the addresses and credentials the options and environment name. */
export function connect(
  options: GlobalOptions,
  io: CliIo,
  token?: () => Promise<string | undefined>,
): GrouppeClient {
  const tls = resolveTls(options, io);
  const addresses = resolveAddresses(options, io, tls !== undefined);
  try {
    return createGrouppeClient({
      addresses,
      tls,
      token,
      timeoutMs: options.timeout,
      // One short-lived command: a single connection per address is plenty.
      connectionsPerAddress: 1,
    });
  } catch (error) {
    throw new CliError((error as Error).message, ExitCode.usage);
  }
}
