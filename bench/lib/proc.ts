import { readFileSync } from 'node:fs';

/** Linux USER_HZ; 100 on every mainstream x86-64 and arm64 kernel. */
const CLOCK_TICKS_PER_SECOND = 100;

/** A `kB` field of /proc/<pid>/status, e.g. VmHWM (peak RSS) or VmRSS; undefined if unreadable. */
export function procStatusKb(pid: number, field: 'VmHWM' | 'VmRSS'): number | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
    return match?.[1] === undefined ? undefined : Number(match[1]);
  } catch {
    return undefined;
  }
}

/** User + system CPU seconds a process has used so far (/proc/<pid>/stat fields 14 and 15). */
export function procCpuSeconds(pid: number): number | undefined {
  return statCpuSeconds(`/proc/${pid}/stat`);
}

/**
 * The same for the process's main thread alone (/proc/<pid>/task/<pid>/stat): the event loop,
 * without worker threads (Switchboard's SQLite writer) and V8's helper threads.
 */
export function procMainThreadCpuSeconds(pid: number): number | undefined {
  return statCpuSeconds(`/proc/${pid}/task/${pid}/stat`);
}

function statCpuSeconds(path: string): number | undefined {
  try {
    const text = readFileSync(path, 'utf8');
    // The command name (field 2) may contain spaces; fields after its closing paren are fixed.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const user = Number(fields[11]);
    const system = Number(fields[12]);
    return Number.isFinite(user) && Number.isFinite(system) ? (user + system) / CLOCK_TICKS_PER_SECOND : undefined;
  } catch {
    return undefined;
  }
}
