import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { ConfigurationError } from '../errors.ts';
import { consoleHandler } from './handler.ts';
import type { ConsoleOptions } from './options.ts';

/** Options of `serveConsole`: the handler's, plus where to listen. */
export interface ServeConsoleOptions extends ConsoleOptions {
  /** Port; `0` picks a free one (the returned `url` names it). @default 0 */
  port?: number;
  /** Interface to listen on. Loopback by default: put a TLS reverse proxy in front to reach it from elsewhere. @default '127.0.0.1' */
  host?: string;
}

/** A running console. */
export interface ConsoleServer {
  /** Where it listens, e.g. `http://127.0.0.1:43117/`. */
  readonly url: string;
  /** Stops listening, ends open event streams and flushes the action sinks. */
  close(): Promise<void>;
}

/** Requests bigger than this are refused before the handler reads them (edited args stay well below). */
const MAX_BODY = 2 * 1024 * 1024;

/**
 * Runs the console on `node:http`, on loopback by default.
 *
 * @example
 * const { url, close } = await serveConsole({ port: 0, store, accounts: 'accounts.json', audit: 'audit.jsonl' });
 * console.log(`console at ${url}`);
 */
export async function serveConsole(options: ServeConsoleOptions): Promise<ConsoleServer> {
  const { port = 0, host = '127.0.0.1', ...handlerOptions } = options ?? ({} as ServeConsoleOptions);
  if (!Number.isSafeInteger(port) || port < 0 || port > 65_535)
    throw new ConfigurationError('serveConsole: port must be 0..65535');
  const handler = consoleHandler(handlerOptions);
  const open = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    open.add(res);
    res.on('close', () => open.delete(res));
    void forward(req, res, handler).catch(() => res.destroy());
  });
  server.headersTimeout = 20_000;
  server.requestTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${shown}:${address.port}${(handlerOptions.basePath ?? '').replace(/\/+$/, '')}/`;
  let closed: Promise<void> | undefined;
  return {
    url,
    close() {
      closed ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const res of open) res.destroy();
        server.closeAllConnections?.();
        await stopped;
        await handler.close();
      })();
      return closed;
    },
  };
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * The host the request's URL (and so the accepted Origin) names: the Host header only when it is a
 * loopback name or the address we listen on, with our port; otherwise the socket's own address. A
 * page on a rebound DNS name (evil.example resolving to 127.0.0.1) therefore never passes the
 * origin check.
 */
function hostOf(req: IncomingMessage): string {
  const local = req.socket.address() as AddressInfo;
  const address = local.family === 'IPv6' ? `[${local.address}]` : local.address;
  const header = req.headers.host;
  if (header !== undefined) {
    const at = header.lastIndexOf(':');
    const name = at > 0 && !header.endsWith(']') ? header.slice(0, at) : header;
    const port = at > 0 && !header.endsWith(']') ? header.slice(at + 1) : '';
    if ((LOOPBACK_NAMES.has(name) || name === address) && port === String(local.port)) return header;
  }
  return `${address}:${local.port}`;
}

async function forward(
  req: IncomingMessage,
  res: ServerResponse,
  handler: ReturnType<typeof consoleHandler>,
): Promise<void> {
  const controller = new AbortController();
  res.on('close', () => controller.abort());
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY) {
    res.writeHead(413, { 'content-type': 'text/plain' }).end('request body too large');
    req.destroy();
    return;
  }
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) headers.append(name, one);
  }
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  const request = new Request(`http://${hostOf(req)}${req.url ?? '/'}`, {
    method: req.method ?? 'GET',
    headers,
    signal: controller.signal,
    ...(hasBody ? { body: Readable.toWeb(req) as ReadableStream<Uint8Array>, duplex: 'half' } : {}),
  } as RequestInit);
  const address = req.socket.remoteAddress;
  const response = await handler(request, address === undefined ? {} : { clientAddress: address });
  const outHeaders: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    if (name === 'set-cookie') return;
    outHeaders[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) outHeaders['set-cookie'] = cookies;
  res.writeHead(response.status, outHeaders);
  if (response.body === null) {
    res.end();
    return;
  }
  const reader = response.body.getReader();
  res.on('close', () => void reader.cancel().catch(() => {}));
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (res.destroyed) break;
    if (!res.write(value))
      await new Promise<void>((resolve) => {
        res.once('drain', resolve);
        res.once('close', resolve);
      });
  }
  res.end();
}
