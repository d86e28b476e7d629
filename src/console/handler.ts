import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDuration } from '../_internal/duration.ts';
import { checkedClock } from '../_internal/host-functions.ts';
import { consoleAudit } from '../audit/console.ts';
import type { AuditSink } from '../audit/types.ts';
import { ConfigurationError } from '../errors.ts';
import { Accounts, type SignedIn } from './accounts.ts';
import { secretSource } from './approver.ts';
import { AuditReader, publicKeysOf } from './audit-reader.ts';
import { Control } from './control.ts';
import type { ConsoleContext, Exchange, Route } from './exchange.ts';
import { HttpError, json, securityHeaders } from './http.ts';
import { QueueWatch } from './live.ts';
import type { ConsoleOptions, ConsoleRequestInfo } from './options.ts';
import { ActionLog } from './record.ts';
import { routes } from './routes.ts';
import { csrfMatches, Sessions, SignInLimiter } from './sessions.ts';

/** A Fetch-style console handler: `(request) => Promise<Response>`. */
export type ConsoleHandler = ((request: Request, info?: ConsoleRequestInfo) => Promise<Response>) & {
  /** Flushes the action sinks and stops watching the queue. */
  close(): Promise<void>;
};

const OPTION_KEYS = new Set([
  'store',
  'accounts',
  'audit',
  'auditKeys',
  'guard',
  'secret',
  'actionAudit',
  'sessionTtl',
  'origin',
  'trustProxy',
  'basePath',
  'assets',
  'now',
]);
const ROLE_RANK = { viewer: 0, approver: 1, admin: 2 } as const;
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/**
 * The toolgate console as a Fetch-style handler: the inbox of pending approvals (live), call
 * details, the audit explorer and its analysis, and control (grants, suspensions, the policy). It
 * mounts in any server that speaks `Request` / `Response` (Hono, Next.js route handlers, Deno, Bun,
 * or `node:http` through `serveConsole`). Misconfiguration throws a ConfigurationError here.
 *
 * @example
 * const handler = consoleHandler({ store, accounts: 'accounts.json', audit: ['audit.jsonl'] });
 * export const GET = handler, POST = handler;   // e.g. a Next.js catch-all route under basePath
 */
export function consoleHandler(options: ConsoleOptions): ConsoleHandler {
  if (typeof options !== 'object' || options === null)
    throw new ConfigurationError('consoleHandler() takes options with a store and accounts');
  for (const key of Object.keys(options))
    if (!OPTION_KEYS.has(key)) throw new ConfigurationError(`console: unknown option ${JSON.stringify(key)}`);
  const now = checkedClock(options.now ?? Date.now, 'console');
  const store = options.store;
  if (typeof store !== 'object' || store === null || typeof store.get !== 'function')
    throw new ConfigurationError('console: store must be a StateStore');
  const accounts = new Accounts(options.accounts);
  const ttlMs = parseDuration(options.sessionTtl ?? '8h', 'console sessionTtl');
  if (ttlMs < 60_000) throw new ConfigurationError('console: sessionTtl must be at least a minute');
  const basePath = (options.basePath ?? '').replace(/\/+$/, '');
  if (basePath !== '' && !/^\/[\w\-./]*$/.test(basePath))
    throw new ConfigurationError('console: basePath must start with / (e.g. /console)');
  let origin: URL | undefined;
  if (options.origin !== undefined) {
    try {
      origin = new URL(options.origin);
    } catch {
      throw new ConfigurationError('console: origin must be a URL such as https://console.example.com');
    }
  }
  const paths =
    options.audit === undefined
      ? []
      : typeof options.audit === 'string'
        ? [options.audit]
        : [...options.audit];
  const sinks: AuditSink[] =
    options.actionAudit === undefined
      ? [consoleAudit()]
      : Array.isArray(options.actionAudit)
        ? [...(options.actionAudit as readonly AuditSink[])]
        : [options.actionAudit as AuditSink];
  for (const sink of sinks)
    if (typeof sink?.write !== 'function')
      throw new ConfigurationError('console: actionAudit must be audit sinks');
  const assets = options.assets ?? fileURLToPath(new URL('./page/', import.meta.url));
  const context: ConsoleContext = {
    options,
    accounts,
    sessions: new Sessions(store, accounts, ttlMs, now),
    limiter: new SignInLimiter(now),
    secret: secretSource(store, options.secret, now, 'console'),
    reader: new AuditReader(paths, publicKeysOf(options.auditKeys as ConsoleOptions['auditKeys'] & {})),
    control: new Control(store, options.guard, now),
    watch: new QueueWatch(store, 500),
    actions: new ActionLog(sinks, now, (error) =>
      console.error(`toolgate console: recording failed: ${String(error)}`),
    ),
    now,
  };
  const table = routes(context);
  const files = new Map<string, Buffer>();

  const serveFile = async (name: string, secure: boolean): Promise<Response> => {
    let body = files.get(name);
    if (body === undefined) {
      try {
        body = await readFile(join(assets, name));
      } catch {
        const hint = name.endsWith('.js') ? ' (the console page is not built: npm run build)' : '';
        return json({ error: `not found${hint}` }, 404, secure);
      }
      files.set(name, body);
    }
    const headers = securityHeaders(secure);
    headers.set('content-type', TYPES[extname(name)] ?? 'application/octet-stream');
    return new Response(new Uint8Array(body), { status: 200, headers });
  };

  const handle = async (request: Request, info: ConsoleRequestInfo = {}): Promise<Response> => {
    const url = new URL(request.url);
    const secure = origin !== undefined ? origin.protocol === 'https:' : url.protocol === 'https:';
    try {
      if (!url.pathname.startsWith(basePath)) return json({ error: 'not found' }, 404, secure);
      // The page's links are relative: its address must end with a slash.
      if (basePath !== '' && url.pathname === basePath) {
        const headers = securityHeaders(secure);
        headers.set('location', `${basePath}/${url.search}`);
        return new Response(null, { status: 308, headers });
      }
      const path = url.pathname.slice(basePath.length);
      const method = request.method.toUpperCase();
      if (method === 'GET' && (path === '/' || path === '/index.html'))
        return await serveFile('index.html', secure);
      const asset = /^\/assets\/([a-z0-9-]+\.(?:js|css|svg|png))$/.exec(path);
      if (method === 'GET' && asset !== null) return await serveFile(asset[1]!, secure);
      const cookiePath = context.sessions.cookiePath(secure, basePath);
      // The last entry is the one the trusted proxy wrote; a proxy that appends keeps whatever the
      // client sent in front of it, so the first entry could be anything.
      const forwarded = request.headers.get('x-forwarded-for')?.split(',').at(-1)?.trim();
      const clientAddress = options.trustProxy === true && forwarded ? forwarded : info.clientAddress;
      const session = await context.sessions.read(request, secure);
      for (const route of table) {
        if (route.method !== method) continue;
        const match = route.pattern.exec(path);
        if (match === null) continue;
        const exchange: Exchange = {
          request,
          url,
          path,
          params: match.slice(1).map((part) => decodeURIComponent(part)),
          secure,
          cookiePath,
          clientAddress,
          session,
        };
        guardRoute(route, exchange, origin ?? new URL(url.origin));
        return await route.run(exchange);
      }
      return json({ error: 'not found' }, 404, secure);
    } catch (error) {
      if (error instanceof HttpError) {
        const headers = new Headers(error.headers);
        return json({ error: error.message }, error.status, secure, headers);
      }
      console.error(`toolgate console: ${(error as Error)?.stack ?? String(error)}`);
      return json({ error: 'the console failed to handle this request' }, 500, secure);
    }
  };
  return Object.assign(handle, {
    async close() {
      context.watch.close();
      await context.actions.flush();
    },
  });
}

/** Authentication, role, origin and CSRF checks before a route runs. */
function guardRoute(route: Route, exchange: Exchange, origin: URL): void {
  const changes = route.method !== 'GET';
  if (changes) {
    // A cross-site page can never post here, signed in or not (login CSRF included).
    const sent = exchange.request.headers.get('origin');
    if (sent !== null && sent !== origin.origin) throw new HttpError(403, 'cross-origin request refused');
    if (exchange.request.headers.get('sec-fetch-site') === 'cross-site')
      throw new HttpError(403, 'cross-site request refused');
  }
  if (route.role === 'public') return;
  const session = exchange.session;
  if (session === undefined) throw new HttpError(401, 'sign in first');
  if (changes && !csrfMatches(session, exchange.request.headers.get('x-csrf-token')))
    throw new HttpError(403, 'missing or invalid CSRF token; reload the page');
  if (ROLE_RANK[session.role] < ROLE_RANK[route.role])
    throw new HttpError(403, `this needs the ${route.role} role; you are ${article(session.role)}`);
}

function article(role: SignedIn['role']): string {
  return role === 'admin' || role === 'approver' ? `an ${role}` : `a ${role}`;
}
