import { chmod, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import type { CliIo } from "./cli-io.js";

/** What `grouppe login` keeps between commands. */
export interface Credentials {
  /** The server the session belongs to. */
  address: string;
  accessToken: string;
  /** ISO time after which the access token is refused. */
  accessTokenExpireTime: string;
  refreshToken: string;
  user: { id: string; email: string; displayName: string };
}

/**
 * The user's grouppe config directory: GROUPPE_CONFIG_DIR, else $XDG_CONFIG_HOME/grouppe, else
 * %APPDATA%\grouppe on Windows, else ~/.config/grouppe.
 */
export function configDir(io: CliIo): string {
  const env = io.env;
  if (env.GROUPPE_CONFIG_DIR) return env.GROUPPE_CONFIG_DIR;
  if (env.XDG_CONFIG_HOME) return join(env.XDG_CONFIG_HOME, "grouppe");
  if (process.platform === "win32" && env.APPDATA) return join(env.APPDATA, "grouppe");
  return join(env.HOME || homedir(), ".config", "grouppe");
}

/** The token file: readable and writable by its owner only. */
export function credentialsPath(io: CliIo): string {
  return join(configDir(io), "credentials.json");
}

export async function loadCredentials(io: CliIo): Promise<Credentials | undefined> {
  try {
    return JSON.parse(await readFile(credentialsPath(io), "utf8")) as Credentials;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

export async function saveCredentials(io: CliIo, credentials: Credentials): Promise<string> {
  const path = credentialsPath(io);
  await mkdir(configDir(io), { recursive: true, mode: 0o700 });
  await writeFile(path, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  // `mode` applies only when the file is created; an older file keeps its bits otherwise.
  await chmod(path, 0o600);
  return path;
}

export async function removeCredentials(io: CliIo): Promise<void> {
  await rm(credentialsPath(io), { force: true });
}
