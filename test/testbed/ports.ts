// Free loopback ports for servers that cannot bind port 0 themselves and report it back.
//
// The port is picked below the kernel's ephemeral range (ip_local_port_range), not by binding
// port 0: a port from that range, probed and released, can be taken by the source port of any
// outgoing connection before the server binds it (seen: etcd "bind: address already in use"
// while a soak ran beside the tests). Ports below the range are only ever taken by a bind.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** Lowest port picked: below it are well-known ports and the Kubernetes components' defaults (10248-10259). */
const LOWEST = 12_000;

function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > LOWEST + 1000 ? low : 0;
  } catch {
    return 0;
  }
}

function bindable(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(address && typeof address === 'object' ? address.port : undefined));
    });
  });
}

/** Whether `port` on 127.0.0.1 can be bound right now. */
export async function portIsFree(port: number): Promise<boolean> {
  return (await bindable(port)) !== undefined;
}

export async function freePort(): Promise<number> {
  const low = ephemeralLow();
  for (let attempt = 0; low > 0 && attempt < 50; attempt++) {
    const port = await bindable(LOWEST + Math.floor(Math.random() * (low - LOWEST)));
    if (port !== undefined) return port;
  }
  // No readable range (not Linux) or nothing free below it: any port the kernel gives.
  const port = await bindable(0);
  if (port === undefined) throw new Error('could not bind a probe socket on 127.0.0.1');
  return port;
}
