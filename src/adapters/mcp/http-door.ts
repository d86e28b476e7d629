import type { IncomingMessage, ServerResponse } from 'node:http';

// The door of the Streamable HTTP proxy (http-listener.ts): loopback addresses, the Host and Origin
// checks against DNS rebinding, the bearer credential, the request body, and plain answers.

/** The loopback names the listener may bind to and be reached by. */
export const LOOPBACK: ReadonlySet<string> = new Set(['127.0.0.1', '::1', 'localhost']);

/** The token of an `Authorization: Bearer …` header, or undefined. */
export function bearer(header: string | undefined): string | undefined {
  const match = /^Bearer ([A-Za-z0-9._~+/=-]+)$/.exec(header ?? '');
  return match?.[1];
}

/** Whether a `Host` header names a loopback address with this port (DNS rebinding sends its own). */
export function sameLoopback(hostHeader: string | undefined, port: number): boolean {
  if (hostHeader === undefined) return false;
  const match = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(hostHeader);
  if (match === null) return false;
  const name = match[1]!.replace(/^\[|\]$/g, '').toLowerCase();
  return LOOPBACK.has(name) && Number(match[2] ?? 80) === port;
}

/** A request without `Origin` (not a browser), or from this loopback address. */
export function originAllowed(origin: string | undefined, port: number): boolean {
  if (origin === undefined) return true;
  try {
    const url = new URL(origin);
    return url.protocol === 'http:' && sameLoopback(url.host, port);
  } catch {
    return false;
  }
}

/** The body as text, or undefined when it is larger than `limit` bytes (the request is then dropped). */
export function readBody(request: IncomingMessage, limit: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        resolve(undefined);
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

/** A plain-text answer. */
export function plain(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(`${text}\n`);
}

/** A JSON answer. */
export function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/** 401 with `WWW-Authenticate: Bearer error="invalid_token"` and the reason. */
export function unauthorized(response: ServerResponse, reason: string): void {
  response
    .writeHead(401, {
      'content-type': 'text/plain; charset=utf-8',
      'www-authenticate': `Bearer error="invalid_token", error_description=${JSON.stringify(reason.replace(/["\\\r\n]/g, ' '))}`,
    })
    .end(`${reason}\n`);
}
