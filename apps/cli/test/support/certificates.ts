import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { repoRoot } from "./server-process.js";

/** The files `npm run certs` writes. */
export interface CertificateFiles {
  dir: string;
  ca: string;
  server: string;
  serverKey: string;
  client: string;
  clientKey: string;
}

/** Writes a development CA, a server and a client certificate into `dir` with `npm run certs`'s program. */
export async function writeCertificates(dir: string): Promise<CertificateFiles> {
  await promisify(execFile)(process.execPath, [
    join(repoRoot, "apps/server/dist/cli/certs.js"),
    "--out",
    dir,
  ]);
  return {
    dir,
    ca: join(dir, "ca.pem"),
    server: join(dir, "server.pem"),
    serverKey: join(dir, "server-key.pem"),
    client: join(dir, "client.pem"),
    clientKey: join(dir, "client-key.pem"),
  };
}

/** The server environment that turns on TLS and accepts client certificates from the CA. */
export function tlsEnv(files: CertificateFiles): Record<string, string> {
  return {
    GROUPPE_TLS_CERT: files.server,
    GROUPPE_TLS_KEY: files.serverKey,
    GROUPPE_CLIENT_CA: files.ca,
  };
}
