// An HTTP proxy in front of moto that records every AWS call the controller makes (operation,
// parameters, the access key that signed it, and STS answers) and can answer chosen calls with
// ThrottlingException, which moto cannot do itself. Tests count calls on the wire with it.
import { createServer, request as httpRequest, type Server } from 'node:http';

export interface RecordedCall {
  /** `GetParameters`, `AssumeRole`, … */
  operation: string;
  /** Request parameters: JSON body (SSM, Secrets Manager) or form fields (STS query protocol). */
  params: Record<string, unknown>;
  /** Access key id from the SigV4 Authorization header. */
  accessKeyId: string;
  /** The response body, kept for STS only (assumed credentials, caller identity). */
  response?: string;
}

export interface AwsRecorder {
  url: string;
  calls: RecordedCall[];
  /** Calls matching this are answered with ThrottlingException and Retry-After: 3. */
  throttle: ((call: RecordedCall) => boolean) | undefined;
  throttled: number;
  count(operation: string): number;
  close(): void;
}

function parse(body: Buffer, headers: Record<string, string | string[] | undefined>) {
  const target = String(headers['x-amz-target'] ?? '');
  const text = body.toString('utf8');
  if (target) {
    let params: Record<string, unknown> = {};
    try {
      params = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {}
    return { operation: target.split('.').pop() ?? target, params };
  }
  const form = Object.fromEntries(new URLSearchParams(text));
  return { operation: form.Action ?? 'unknown', params: form as Record<string, unknown> };
}

export async function startAwsRecorder(target: string): Promise<AwsRecorder> {
  const upstream = new URL(target);
  const recorder: AwsRecorder = {
    url: '',
    calls: [],
    throttle: undefined,
    throttled: 0,
    count: (operation) => recorder.calls.filter((c) => c.operation === operation).length,
    close: () => server.close(),
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const auth = String(req.headers.authorization ?? '');
      const call: RecordedCall = {
        ...parse(body, req.headers),
        accessKeyId: /Credential=([^/]+)\//.exec(auth)?.[1] ?? '',
      };
      recorder.calls.push(call);
      if (recorder.throttle?.(call)) {
        recorder.throttled++;
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1', 'retry-after': '3' });
        res.end(JSON.stringify({ __type: 'ThrottlingException', message: 'Rate exceeded' }));
        return;
      }
      const sts = !req.headers['x-amz-target'];
      const forward = httpRequest(
        { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          if (!sts) {
            up.pipe(res);
            return;
          }
          const out: Buffer[] = [];
          up.on('data', (c: Buffer) => {
            out.push(c);
            res.write(c);
          });
          up.on('end', () => {
            call.response = Buffer.concat(out).toString('utf8');
            res.end();
          });
        },
      );
      forward.on('error', () => {
        res.writeHead(502);
        res.end();
      });
      forward.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  recorder.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  return recorder;
}
