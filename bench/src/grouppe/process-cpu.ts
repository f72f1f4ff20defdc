import { readFile } from "node:fs/promises";

/** /proc reports CPU time in USER_HZ ticks, which Linux fixes at 100 per second for user space. */
const ticksPerSecond = 100;

/** CPU time (user + system) process `pid` has used so far, in ms, from /proc/<pid>/stat (Linux only). */
export async function processCpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const user = Number(fields[11]);
  const system = Number(fields[12]);
  if (!Number.isFinite(user) || !Number.isFinite(system))
    throw new Error(`/proc/${pid}/stat has no CPU times`);
  return ((user + system) * 1_000) / ticksPerSecond;
}
