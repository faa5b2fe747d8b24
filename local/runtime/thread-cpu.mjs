// The calling thread's own CPU time: utime + stime of /proc/thread-self/stat (10 ms ticks, Linux), in
// ms; undefined where /proc is missing. Plain JavaScript: the worker threads load it without a loader.
import { readFileSync } from 'node:fs';

export const threadCpuMs = () => {
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces: utime, stime are 14, 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
};
