// One node per machine: the kubelet holds fixed ports and host-wide cgroups, so a bed takes a
// machine-wide lock before it starts one, and whatever an earlier holder left is stale.
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';

const LOCK_FILE = '/run/ferry-testbed-node.lock';
/** Records the node directory of the current holder, so the next one can sweep it. */
const LAST_FILE = '/run/ferry-testbed-node.last';

export interface HostLock {
  /** The node directory the previous holder recorded, if any. */
  previousNodeDir: string | undefined;
  release(): void;
}

/**
 * Takes the lock without waiting. A small holder process keeps it (and dies with this one, so a
 * killed test run frees it); another live node makes this fail, naming the lock.
 */
export async function acquireHostLock(nodeDir: string): Promise<HostLock> {
  // bash locks fd 9 and then becomes `sleep`, keeping the fd (and the lock) until it is killed.
  const holder = spawn(
    'setpriv',
    [
      '--pdeathsig',
      'KILL',
      '--',
      'bash',
      '-c',
      `exec 9>>${LOCK_FILE}; flock -n 9 || exit 75; echo locked; exec sleep infinity`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const locked = await new Promise<boolean>((resolve) => {
    holder.stdout.once('data', () => resolve(true));
    holder.once('exit', () => resolve(false));
    holder.once('error', () => resolve(false));
  });
  if (!locked) {
    throw new Error(
      `another test bed already runs a node on this machine (it holds ${LOCK_FILE}); one kubelet per machine. Stop that run first.`,
    );
  }
  const previousNodeDir = await readFile(LAST_FILE, 'utf8').then(
    (text) => text.trim() || undefined,
    () => undefined,
  );
  await writeFile(LAST_FILE, `${nodeDir}\n`);
  return {
    previousNodeDir,
    release() {
      holder.kill('SIGKILL');
    },
  };
}
