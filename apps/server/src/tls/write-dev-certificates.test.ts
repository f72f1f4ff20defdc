import { X509Certificate } from "node:crypto";
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createDevCertificates, type DevCertificates } from "./dev-certificates.js";
import { CertificateFilesExistError, writeDevCertificates } from "./write-dev-certificates.js";

let certificates: DevCertificates;
let dir: string;

beforeAll(async () => {
  certificates = await createDevCertificates("importer");
});

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "grouppe-certs-"));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function mode(path: string): Promise<number> {
  return (await stat(path)).mode & 0o777;
}

describe("writeDevCertificates", () => {
  it("writes the six PEM files into a new directory, keys private to the owner", async () => {
    const out = join(dir, "nested", "certs");
    const paths = await writeDevCertificates(out, certificates);
    expect((await readdir(out)).sort()).toEqual([
      "ca-key.pem",
      "ca.pem",
      "client-key.pem",
      "client.pem",
      "server-key.pem",
      "server.pem",
    ]);
    expect(paths.serverKey).toBe(join(out, "server-key.pem"));
    expect(await readFile(paths.server, "utf8")).toBe(certificates.server.cert);
    expect(await readFile(paths.clientKey, "utf8")).toBe(certificates.client.key);
    for (const key of [paths.caKey, paths.serverKey, paths.clientKey])
      expect(await mode(key)).toBe(0o600);
    for (const cert of [paths.ca, paths.server, paths.client]) expect(await mode(cert)).toBe(0o644);
    expect(new X509Certificate(await readFile(paths.client)).subject).toBe("CN=importer");
  });

  it("refuses to replace existing files and writes nothing then", async () => {
    await writeFile(join(dir, "client.pem"), "keep me");
    const error = await writeDevCertificates(dir, certificates).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CertificateFilesExistError);
    expect((error as CertificateFilesExistError).existing).toEqual([join(dir, "client.pem")]);
    expect(await readdir(dir)).toEqual(["client.pem"]);
    expect(await readFile(join(dir, "client.pem"), "utf8")).toBe("keep me");
  });

  it("replaces existing files when told to, keys private again", async () => {
    await writeFile(join(dir, "server-key.pem"), "old key");
    await chmod(join(dir, "server-key.pem"), 0o644);
    const paths = await writeDevCertificates(dir, certificates, { overwrite: true });
    expect(await readFile(paths.serverKey, "utf8")).toBe(certificates.server.key);
    expect(await mode(paths.serverKey)).toBe(0o600);
  });
});
