import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { errorParts } from '../../_internal/describe-error.ts';
import { ConfigurationError } from '../../errors.ts';
import type { Guard, OnDeny } from '../../guard-types.ts';
import { accessLog } from './http-access.ts';
import {
  bearer,
  json,
  LOOPBACK,
  originAllowed,
  plain,
  readBody,
  sameLoopback,
  unauthorized,
} from './http-door.ts';
import { type HttpCaller, SESSION_HEADER, Session } from './http-session.ts';
import { idKey, isRequest } from './json-rpc.ts';
import { type McpProxyOptions, runMcpProxy } from './proxy.ts';
import type { JsonRpcId, JsonRpcMessage } from './types.ts';

export type { HttpCaller };

/** The code of a refusal because `authenticate` threw or answered oddly (500). */
const AUTHENTICATE_FAILED = 'AUTHENTICATE_FAILED';

/** The answer of `authenticate`: the caller, or why the credential is refused (401). */
export type HttpAuthentication =
  | { readonly ok: true; readonly caller: HttpCaller }
  | { readonly ok: false; readonly code: string; readonly reason: string };

/** Options of `serveMcpProxyHttp`: the stdio proxy's, and the listener's own. */
export interface McpHttpProxyOptions
  extends Omit<McpProxyOptions, 'input' | 'output' | 'onStart' | 'context' | 'env'> {
  /** Loopback only: `127.0.0.1`, `::1` or `localhost`. @default '127.0.0.1' */
  host?: string;
  /** `0` picks a free port (the returned `url` names it). @default 0 */
  port?: number;
  /** The MCP endpoint's path. @default '/mcp' */
  path?: string;
  /** Verifies a bearer credential (e.g. with `verifyCredential` from `toolgate/identity`). */
  authenticate(token: string): Promise<HttpAuthentication>;
  /**
   * The environment of the server process of one session (e.g. secrets fetched from a provider for
   * this caller); a rejection refuses the session (503). @default the proxy's own environment
   */
  serverEnv?: (caller: HttpCaller) => Promise<NodeJS.ProcessEnv>;
  /** Largest request body, in bytes. @default 4 MiB */
  maxBodyBytes?: number;
  /** Server-to-client messages kept for a session with no open event stream. @default 100 */
  maxQueued?: number;
  /** A session with no request for this long is ended (its server's stdin closed). @default 15 min */
  sessionIdleMs?: number;
}

/** A listening HTTP proxy. */
export interface McpHttpProxy {
  /** The MCP endpoint, e.g. `http://127.0.0.1:43111/mcp`. */
  readonly url: string;
  /** Live sessions (one server process each). */
  readonly sessions: number;
  /** Stops listening and ends every session (their servers get their stdin closed). */
  close(): Promise<void>;
}

/**
 * The MCP proxy as a Streamable HTTP endpoint on loopback: every client authenticates with a bearer
 * credential, and each session gets its own server process (started with `serverEnv(caller)`)
 * behind the same guarded JSON-RPC proxy as `runMcpProxy`. Every `tools/call` carries the session's
 * credential as `context.credential`, so a guard created with `identity` verifies it again per call,
 * takes the agent, principal, intent and session from it and scopes the call to its tools. A later
 * request of a session may renew the credential for the same agent and principal only.
 *
 * Refused: a non-loopback `host` (ConfigurationError); a request whose `Host` or `Origin` is not
 * this loopback address (403, against DNS rebinding); no or an invalid bearer credential (401); a
 * session another caller started (403); an unknown session (404).
 */
export async function serveMcpProxyHttp(
  tg: Guard<OnDeny>,
  options: McpHttpProxyOptions,
): Promise<McpHttpProxy> {
  const host = options.host ?? '127.0.0.1';
  if (!LOOPBACK.has(host))
    throw new ConfigurationError(
      `serveMcpProxyHttp: host must be a loopback address (127.0.0.1, ::1 or localhost); put a TLS reverse proxy in front for anything else`,
    );
  if (typeof options.authenticate !== 'function')
    throw new ConfigurationError('serveMcpProxyHttp: authenticate is required');
  const path = options.path ?? '/mcp';
  const maxBodyBytes = options.maxBodyBytes ?? 4 * 1024 * 1024;
  const maxQueued = options.maxQueued ?? 100;
  const idleMs = options.sessionIdleMs ?? 15 * 60_000;
  const endIdle = (session: Session) => () => {
    // A request still waiting for its answer (an approval, a slow tool) keeps the session alive.
    if (session.pending.size > 0) return session.touch(idleMs, endIdle(session));
    sessions.delete(session.id);
    session.end('the session was idle too long');
  };
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  // Sessions and refusals at the door, recorded in the guard's audit trail (src/audit/types.ts AccessEvent).
  const access = accessLog(tg, options.server, log);
  const sessions = new Map<string, Session>();
  const exits: Promise<unknown>[] = [];
  let port = 0;

  const startSession = async (caller: HttpCaller, token: string): Promise<Session> => {
    const env = options.serverEnv === undefined ? process.env : await options.serverEnv(caller);
    const session = new Session(randomBytes(18).toString('base64url'), caller, token, maxQueued);
    access.started(caller);
    session.onEnd = (reason) => access.ended(caller, session.startedAt, reason);
    let buffered = '';
    const output = new Writable({
      write(chunk: Buffer, _encoding, done) {
        buffered += chunk.toString('utf8');
        for (let at = buffered.indexOf('\n'); at !== -1; at = buffered.indexOf('\n')) {
          const line = buffered.slice(0, at);
          buffered = buffered.slice(at + 1);
          if (line.trim() !== '') session.fromServer(line);
        }
        done();
      },
    });
    const proxyOptions: McpProxyOptions = {
      ...options,
      env,
      input: session.input,
      output,
      log: (line) => log(`${line} (session of ${caller.agent} for ${caller.principal})`),
      // Read per call: a renewed credential applies to the calls after it.
      get context() {
        return session.context;
      },
    };
    sessions.set(session.id, session);
    exits.push(
      runMcpProxy(tg, proxyOptions).then(
        (code) => {
          sessions.delete(session.id);
          session.end(`the MCP server exited (${code})`);
        },
        (error: unknown) => {
          sessions.delete(session.id);
          session.end(`the MCP server failed: ${errorParts(error).message}`);
        },
      ),
    );
    return session;
  };

  /** `authenticate`'s answer, checked: one that throws or answers oddly is AUTHENTICATE_FAILED. */
  const authenticated = async (token: string): Promise<HttpAuthentication> => {
    let answer: HttpAuthentication;
    try {
      answer = await options.authenticate(token);
    } catch (error) {
      return {
        ok: false,
        code: AUTHENTICATE_FAILED,
        reason: `authenticate threw: ${errorParts(error).message}`,
      };
    }
    if (answer?.ok === true) {
      const caller = answer.caller as Partial<HttpCaller> | undefined;
      if (typeof caller?.agent === 'string' && typeof caller.principal === 'string')
        return { ok: true, caller: { agent: caller.agent, principal: caller.principal } };
    } else if (answer?.ok === false) {
      const code =
        typeof answer.code === 'string' && /^[A-Z][A-Z0-9_]{0,63}$/.test(answer.code)
          ? answer.code
          : 'CREDENTIAL_INVALID';
      return { ok: false, code, reason: String(answer.reason).slice(0, 500) };
    }
    return { ok: false, code: AUTHENTICATE_FAILED, reason: 'authenticate gave no caller and no refusal' };
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? '/', `http://${host}`);
    if (url.pathname !== path) return plain(response, 404, 'not found');
    if (!sameLoopback(request.headers.host, port) || !originAllowed(request.headers.origin, port)) {
      const refusal = 'the Host or Origin is not this loopback address';
      access.refused(403, 'FORBIDDEN_HOST', refusal);
      return plain(response, 403, refusal);
    }
    const token = bearer(request.headers.authorization);
    if (token === undefined) {
      access.refused(401, 'NO_CREDENTIAL', 'a bearer credential is required');
      return unauthorized(response, 'a bearer credential is required');
    }
    const checked = await authenticated(token);
    if (!checked.ok) {
      if (checked.code === AUTHENTICATE_FAILED) {
        access.refused(500, AUTHENTICATE_FAILED, checked.reason);
        return plain(response, 500, 'internal error');
      }
      access.refused(401, checked.code, checked.reason);
      return unauthorized(response, `${checked.code}: ${checked.reason}`);
    }
    const caller = checked.caller;

    const sessionId = request.headers[SESSION_HEADER];
    let session: Session | undefined;
    if (typeof sessionId === 'string') {
      session = sessions.get(sessionId);
      if (session === undefined) {
        access.refused(404, 'UNKNOWN_SESSION', 'no such session (ended, or never started)', caller);
        return plain(response, 404, 'no such session; start a new one');
      }
      if (session.caller.agent !== caller.agent || session.caller.principal !== caller.principal) {
        const refusal = 'this session belongs to another agent or principal';
        access.refused(403, 'FOREIGN_SESSION', refusal, caller);
        return plain(response, 403, refusal);
      }
      // A renewed credential for the same caller is used from now on.
      session.context = { credential: token };
    }

    if (request.method === 'GET') {
      if (session === undefined) return plain(response, 400, 'an event stream needs a session');
      session.touch(idleMs, endIdle(session));
      if (!session.openStream(response)) plain(response, 409, 'this session already has an event stream');
      return;
    }
    if (request.method === 'DELETE') {
      if (session === undefined) return plain(response, 400, 'no session to end');
      sessions.delete(session.id);
      session.end('the session was ended by the client');
      return plain(response, 200, 'ended');
    }
    if (request.method !== 'POST') {
      response.setHeader('allow', 'GET, POST, DELETE');
      return plain(response, 405, 'method not allowed');
    }
    const type = request.headers['content-type'] ?? '';
    if (!/^application\/json\b/i.test(type)) return plain(response, 415, 'the body must be application/json');
    const body = await readBody(request, maxBodyBytes);
    if (body === undefined) return plain(response, 413, `the body is larger than ${maxBodyBytes} bytes`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return json(response, 400, {
        jsonrpc: '2.0',
        id: null,
        error: { code: -32700, message: 'parse error' },
      });
    }
    const messages = Array.isArray(parsed) ? parsed : [parsed];
    if (
      messages.length === 0 ||
      messages.some((m) => typeof m !== 'object' || m === null || Array.isArray(m))
    )
      return json(response, 400, {
        jsonrpc: '2.0',
        id: null,
        error: { code: -32600, message: 'invalid request' },
      });

    if (session === undefined) {
      const first = messages[0] as JsonRpcMessage;
      if (messages.length !== 1 || !isRequest(first) || first.method !== 'initialize')
        return plain(response, 400, 'no session: the first request must be initialize, alone');
      try {
        session = await startSession(caller, token);
      } catch (error) {
        access.refused(
          503,
          'SESSION_REFUSED',
          `its server could not be started: ${errorParts(error).message}`,
          caller,
        );
        return plain(response, 503, 'the session could not be started (see the proxy log)');
      }
    }
    const open = session;
    open.touch(idleMs, endIdle(open));
    // A request whose id is in flight in this session (or earlier in this batch) is refused here:
    // two answers to one id would settle the wrong POST and leave the other hanging.
    const requests: (JsonRpcMessage & { id: JsonRpcId })[] = [];
    const answers: Promise<JsonRpcMessage>[] = [];
    const passed: JsonRpcMessage[] = [];
    for (const message of messages as JsonRpcMessage[]) {
      if (!isRequest(message)) {
        passed.push(message);
        continue;
      }
      const key = idKey(message.id);
      if (open.pending.has(key)) {
        answers.push(Promise.resolve(duplicateId(message.id)));
        continue;
      }
      requests.push(message);
      passed.push(message);
      answers.push(
        new Promise<JsonRpcMessage>((resolve) => open.pending.set(key, { id: message.id, resolve })),
      );
    }
    for (const message of passed) open.input.write(`${JSON.stringify(message)}\n`);
    if (answers.length === 0) {
      response.writeHead(202, { [SESSION_HEADER]: open.id }).end();
      return;
    }
    // A client that goes away cancels what it asked (MCP cancellation reaches the guarded call).
    const onGone = () => {
      for (const message of requests) {
        if (!open.pending.delete(idKey(message.id)) || open.closed) continue;
        open.input.write(
          `${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: message.id, reason: 'the HTTP client went away' } })}\n`,
        );
      }
    };
    response.on('close', onGone);
    const replies = await Promise.all(answers);
    response.off('close', onGone);
    if (response.destroyed) return;
    response.setHeader(SESSION_HEADER, open.id);
    json(response, 200, Array.isArray(parsed) ? replies : replies[0]);
  };

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      log(`toolgate mcp-proxy: ${errorParts(error).message}`);
      if (!response.headersSent) plain(response, 500, 'internal error');
      else response.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}${path}`,
    get sessions() {
      return sessions.size;
    },
    async close() {
      for (const session of sessions.values()) session.end('the proxy is shutting down');
      sessions.clear();
      access.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await Promise.allSettled(exits);
    },
  };
}

/** The refusal of a request whose id is already in flight in its session. */
function duplicateId(id: JsonRpcId): JsonRpcMessage {
  return {
    jsonrpc: '2.0',
    id,
    error: { code: -32600, message: 'toolgate: duplicate request id (one is in flight)' },
  };
}
