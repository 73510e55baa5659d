// Open file descriptors of this process, for tests that prove the controller leaks none.
import { readdirSync, readlinkSync } from 'node:fs';

function targets(): string[] {
  return readdirSync('/proc/self/fd').flatMap((fd) => {
    try {
      return [readlinkSync(`/proc/self/fd/${fd}`)];
    } catch {
      return [];
    }
  });
}

export function openSockets(): number {
  return targets().filter((t) => t.startsWith('socket:')).length;
}

export function openDescriptors(): number {
  return targets().length;
}
