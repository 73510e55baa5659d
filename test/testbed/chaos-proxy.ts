// A fault-injecting reverse proxy put between Ferry and a real provider server (moto, OpenBao,
// drongo, the Key Vault test server). It passes requests through, or answers each one with the
// current fault: an HTTP error with the provider's own error body, a reset connection, a
// request left hanging, or a slow pass-through. It counts what it saw, by fault.
import {
  createServer as createHttpServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';

export type Fault =
  | { kind: 'pass' }
  | { kind: 'status'; status: number; body: string; headers?: Record<string, string> }
  | { kind: 'reset' }
  | { kind: 'hang' }
  | { kind: 'slow'; delayMs: number };

export class ChaosProxy {
  fault: Fault = { kind: 'pass' };
  /** Sees every request first; returning true means it answered the request itself. */
  intercept: ((req: IncomingMessage, res: ServerResponse) => boolean) | undefined;
  /** Requests seen, by the fault that was active when they arrived. */
  readonly counts = new Map<string, number>();
  private readonly sockets = new Set<Socket>();
  private readonly server: Server;
  private readonly upstream: URL;
  private port = 0;

  private constructor(upstream: string, tls?: { key: string; cert: string }) {
    this.upstream = new URL(upstream);
    const handler = (req: IncomingMessage, res: ServerResponse) => this.handle(req, res);
    this.server = tls ? createHttpsServer(tls, handler) : createHttpServer(handler);
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  /** Listens on 127.0.0.1; `tls` serves HTTPS (for clients that insist on it, like Key Vault's). */
  static async start(upstream: string, tls?: { key: string; cert: string }): Promise<ChaosProxy> {
    const proxy = new ChaosProxy(upstream, tls);
    await new Promise<void>((r) => proxy.server.listen(0, '127.0.0.1', r));
    proxy.port = (proxy.server.address() as { port: number }).port;
    return proxy;
  }

  get url(): string {
    return `${this.upstream.protocol}//127.0.0.1:${this.port}`;
  }

  /** Requests that arrived under faults of `kind` (all kinds when omitted). */
  seen(kind?: Fault['kind']): number {
    if (kind) return this.counts.get(kind) ?? 0;
    return [...this.counts.values()].reduce((a, b) => a + b, 0);
  }

  /** Sets the fault; leaving `hang` drops the requests left hanging, as a dead peer finally would. */
  set(fault: Fault): void {
    if (this.fault.kind === 'hang' && fault.kind !== 'hang') for (const s of this.sockets) s.destroy();
    this.fault = fault;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    if (this.intercept?.(req, res)) return;
    const fault = this.fault;
    this.counts.set(fault.kind, (this.counts.get(fault.kind) ?? 0) + 1);
    switch (fault.kind) {
      case 'status':
        req.resume();
        res.writeHead(fault.status, { 'content-type': 'application/json', ...fault.headers });
        res.end(fault.body);
        return;
      case 'reset':
        req.socket.destroy();
        return;
      case 'hang':
        req.resume();
        return;
      case 'slow':
        setTimeout(() => this.forward(req, res), fault.delayMs);
        return;
      default:
        this.forward(req, res);
    }
  }

  private forward(req: IncomingMessage, res: ServerResponse): void {
    const send = this.upstream.protocol === 'https:' ? httpsRequest : httpRequest;
    const out = send(
      {
        host: this.upstream.hostname,
        port: this.upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    out.on('error', () => {
      if (res.headersSent) res.destroy();
      else res.writeHead(502).end();
    });
    req.pipe(out);
  }
}
