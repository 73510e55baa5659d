// One server of the test bed: started with its output in a log file, polled until ready,
// stopped or restarted on demand, and killed with its parent if the parent dies.
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';

export interface ServerSpec {
  /** Name used in every message, e.g. "kube-apiserver". */
  name: string;
  command: string;
  args: string[];
  env?: Record<string, string>;
  logFile: string;
  /** One readiness probe; true when the server serves requests. */
  probe: () => Promise<boolean>;
  readyTimeoutMs?: number;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

// setpriv's pdeathsig kills the server when this process dies, even by SIGKILL; the exit hook
// covers ordinary exits and Ctrl-C, so a run never leaves a server or a bound port behind.
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      for (const child of live) child.kill('SIGKILL');
      process.kill(process.pid, signal);
    });
  }
}

export function tailOf(file: string, lines = 15): string {
  if (!existsSync(file)) return '(no log written)';
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

export class ServerProcess {
  readonly spec: ServerSpec;
  private child: ChildProcess | undefined;
  private exited: Promise<number | null> | undefined;

  constructor(spec: ServerSpec) {
    this.spec = spec;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(): Promise<void> {
    if (this.running) return;
    installExitHook();
    const { command, args, env, logFile } = this.spec;
    const log = openSync(logFile, 'a');
    const child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', command, ...args], {
      stdio: ['ignore', log, log],
      env: { ...process.env, ...env },
    });
    closeSync(log);
    this.child = child;
    live.add(child);
    this.exited = new Promise((resolve) => {
      child.once('exit', (code) => {
        live.delete(child);
        resolve(code);
      });
      child.once('error', () => {
        live.delete(child);
        resolve(null);
      });
    });
    try {
      await this.waitReady();
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  private async waitReady(): Promise<void> {
    const { name, logFile, probe } = this.spec;
    const timeoutMs = this.spec.readyTimeoutMs ?? 90_000;
    const deadline = Date.now() + timeoutMs;
    let delay = 50;
    let exitCode: number | null | undefined;
    void this.exited?.then((code) => {
      exitCode = code;
    });
    while (Date.now() < deadline) {
      if (exitCode !== undefined || !this.running) {
        throw new Error(
          `${name} exited (code ${exitCode ?? this.child?.exitCode ?? 'unknown'}) before it was ready; a port may be in use or a flag rejected. Read ${logFile}. Last lines:\n${tailOf(logFile)}`,
        );
      }
      if (await probe().catch(() => false)) return;
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 500);
    }
    throw new Error(
      `${name} was not ready within ${timeoutMs / 1000}s. Read ${logFile}. Last lines:\n${tailOf(logFile)}`,
    );
  }

  /** SIGTERM, then SIGKILL if the server has not exited after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    const child = this.child;
    if (!child || !this.exited) return;
    if (this.running) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await this.exited;
      clearTimeout(timer);
    }
    this.child = undefined;
    this.exited = undefined;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }
}
