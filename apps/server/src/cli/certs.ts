import { isAbsolute, resolve } from "node:path";
import { parseArgs } from "node:util";
import { createDevCertificates, serviceSpiffeId } from "../tls/dev-certificates.js";
import { CertificateFilesExistError, writeDevCertificates } from "../tls/write-dev-certificates.js";

const usage = `Usage: npm run certs -- [--out DIR] [--service NAME] [--force]

Creates a development CA, a server certificate (localhost, 127.0.0.1, ::1) and a client
certificate for one internal service, and prints the environment that turns on TLS with
client certificates.

  --out DIR       where to write the PEM files (default: ./certs)
  --service NAME  the internal service the client certificate is for (default: importer);
                  its principal is spiffe://grouppe.internal/service/NAME
  --force         replace certificate files that already exist
  --help          show this text`;

/** Quotes a value for a POSIX shell when it needs quoting. */
function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
}

/** Runs `npm run certs`; returns the process exit code. */
async function main(argv: string[]): Promise<number> {
  let options: { out: string; service: string; force: boolean; help: boolean };
  try {
    ({ values: options } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        out: { type: "string", default: "certs" },
        service: { type: "string", default: "importer" },
        force: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    }));
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${usage}`);
    return 2;
  }
  if (options.help) {
    console.log(usage);
    return 0;
  }
  let principal: string;
  try {
    principal = serviceSpiffeId(options.service);
  } catch (error) {
    console.error(`--service: ${(error as Error).message}`);
    return 2;
  }
  // npm runs workspace scripts inside the workspace; relative paths mean where npm was started.
  const base = process.env.INIT_CWD ?? process.cwd();
  const dir = isAbsolute(options.out) ? options.out : resolve(base, options.out);

  const certificates = await createDevCertificates(options.service);
  let paths: Awaited<ReturnType<typeof writeDevCertificates>>;
  try {
    paths = await writeDevCertificates(dir, certificates, { overwrite: options.force });
  } catch (error) {
    if (!(error instanceof CertificateFilesExistError)) throw error;
    console.error(`${error.message}; pass --force to replace them, or --out to write elsewhere`);
    return 1;
  }

  console.log(`Wrote a development CA and two certificates to ${dir}:
  ca.pem, ca-key.pem          the CA; keep ca-key.pem private
  server.pem, server-key.pem  the server, for localhost, 127.0.0.1 and ::1
  client.pem, client-key.pem  the service "${options.service}" (${principal})

Serve TLS and accept client certificates from this CA:
  export GROUPPE_TLS_CERT=${shellQuote(paths.server)}
  export GROUPPE_TLS_KEY=${shellQuote(paths.serverKey)}
  export GROUPPE_CLIENT_CA=${shellQuote(paths.ca)}

Clients trust ${shellQuote(paths.ca)}; the service "${options.service}" presents
${shellQuote(paths.client)} with ${shellQuote(paths.clientKey)}.`);
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
