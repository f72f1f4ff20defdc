import { readFile } from "node:fs/promises";

/** The resident set size of process `pid` in KiB, from /proc/<pid>/status (Linux only). */
export async function residentKib(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (!match?.[1]) throw new Error(`/proc/${pid}/status has no VmRSS line`);
  return Number(match[1]);
}

/** The peak resident set size of process `pid` so far in KiB (VmHWM; Linux only). */
export async function peakResidentKib(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const match = /^VmHWM:\s+(\d+)\s+kB$/m.exec(status);
  if (!match?.[1]) throw new Error(`/proc/${pid}/status has no VmHWM line`);
  return Number(match[1]);
}
