import { access, chmod, mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { DevCertificates } from "./dev-certificates.js";

/** Where each development certificate and key was written, as absolute paths. */
export interface DevCertificatePaths {
  ca: string;
  caKey: string;
  server: string;
  serverKey: string;
  client: string;
  clientKey: string;
}

/** Thrown instead of replacing certificate files that are already there. */
export class CertificateFilesExistError extends Error {
  override readonly name = "CertificateFilesExistError";
  constructor(readonly existing: string[]) {
    super(`${existing.join(", ")} already exist${existing.length === 1 ? "s" : ""}`);
  }
}

/**
 * Writes the certificates as PEM files into `dir` (created when missing): private keys
 * readable by the owner only. Refuses with {@link CertificateFilesExistError}, before writing
 * anything, when a file is already there, unless `overwrite` is set.
 */
export async function writeDevCertificates(
  dir: string,
  certificates: DevCertificates,
  options: { overwrite?: boolean } = {},
): Promise<DevCertificatePaths> {
  const absolute = resolve(dir);
  const at = (name: string) => join(absolute, name);
  const paths: DevCertificatePaths = {
    ca: at("ca.pem"),
    caKey: at("ca-key.pem"),
    server: at("server.pem"),
    serverKey: at("server-key.pem"),
    client: at("client.pem"),
    clientKey: at("client-key.pem"),
  };
  if (!options.overwrite) {
    const present = await Promise.all(Object.values(paths).map(exists));
    const existing = Object.values(paths).filter((_, index) => present[index]);
    if (existing.length > 0) throw new CertificateFilesExistError(existing);
  }
  await mkdir(absolute, { recursive: true });
  const files: [string, string, number][] = [
    [paths.ca, certificates.ca.cert, 0o644],
    [paths.caKey, certificates.ca.key, 0o600],
    [paths.server, certificates.server.cert, 0o644],
    [paths.serverKey, certificates.server.key, 0o600],
    [paths.client, certificates.client.cert, 0o644],
    [paths.clientKey, certificates.client.key, 0o600],
  ];
  for (const [path, pem, mode] of files) {
    await writeFile(path, pem, { mode });
    // The mode given to writeFile applies only to a file it creates, not to one it replaces.
    await chmod(path, mode);
  }
  return paths;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
