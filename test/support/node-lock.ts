// The real node has one kubelet, and the CSI driver name csi.ferry.dev can be registered with it
// by one plugin at a time. Test files that register it (the CSI pods test, the chart's DaemonSet
// in the helm node test) take this lock so that, with files running in parallel, one never
// unregisters the driver under the other. A lock left by a process that died is taken over.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { testbed } from './testbed.ts';

const lockDir = () => join(testbed().runDir, 'csi-driver.lock');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Waits until this process holds the node's CSI driver registration; returns the release. */
export async function holdCsiDriverRegistration(timeoutMs = 170_000): Promise<() => Promise<void>> {
  const dir = lockDir();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await mkdir(dir);
      await writeFile(join(dir, 'pid'), String(process.pid));
      return () => rm(dir, { recursive: true, force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(await readFile(join(dir, 'pid'), 'utf8').catch(() => '0'));
      if (holder > 0 && holder !== process.pid && !alive(holder)) await rm(dir, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`the node's CSI driver registration is still held by pid ${holder}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}
