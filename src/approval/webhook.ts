import { parseDuration } from '../_internal/duration.ts';
import { checkedClock } from '../_internal/host-functions.ts';
import { ConfigurationError } from '../errors.ts';
import type { Duration } from '../types.ts';
import {
  type ApprovalBinding,
  type ApprovalSecret,
  approvalBinding,
  approvalSecret,
  sameBinding,
  signWebhookBody,
  verifyApprovalResponse,
} from './token.ts';
import type { ApprovalProvider, ApprovalRequest, ApprovalResponse } from './types.ts';

/** Options of `webhookApprover`. */
export interface WebhookApproverOptions {
  /** Where approval requests are POSTed. */
  url: string | URL;
  /** HMAC-SHA256 key (at least 32 bytes) shared with the receiver; required. */
  secret: ApprovalSecret;
  /** @default 'webhook' */
  name?: string;
  /** Extra request headers, e.g. an authorization header for the receiver. */
  headers?: Record<string, string>;
  /** How long the POST may take; a slower or failed POST denies (`APPROVAL_ERROR`). @default '10s' */
  timeout?: Duration;
  /** How old a signed answer may be. @default '5m' */
  replayWindow?: Duration;
  /** Clock for signatures and the replay window. @default Date.now */
  now?: () => number;
}

/** A request as `handleApprovalCallback` accepts it: Node's IncomingMessage, a Fetch Request, or parts. */
export type ApprovalCallbackRequest =
  | { readonly body: string | Uint8Array | Record<string, unknown> }
  | { text(): Promise<string> }
  | AsyncIterable<Uint8Array | string>;

/** What `handleApprovalCallback` answers; write it to your framework's response. */
export interface ApprovalCallbackResult {
  readonly status: number;
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** A Node `ServerResponse`-like object `handleApprovalCallback` can write to. */
export interface ApprovalCallbackResponse {
  writeHead(status: number, headers: Record<string, string>): unknown;
  end(body: string): unknown;
}

/** A webhook approval channel. */
export interface WebhookApprover extends ApprovalProvider {
  /**
   * Verifies and applies a signed answer POSTed back by the receiver (`{ "token": "…" }`, made with
   * `signApprovalResponse`). Mount it on any Node HTTP framework; pass `res` to have it written.
   * 200: applied; 400: malformed; 401: bad signature or outside the replay window; 404: unknown
   * request; 409: already settled, or bound to another call, tool, args, principal or policy; 500:
   * the `now` option failed (nothing applied).
   */
  handleApprovalCallback(
    request: ApprovalCallbackRequest,
    res?: ApprovalCallbackResponse,
  ): Promise<ApprovalCallbackResult>;
  /** Requests waiting for an answer. */
  readonly pending: number;
}

interface Waiting {
  readonly binding: ApprovalBinding;
  readonly resolve: (response: ApprovalResponse) => void;
  readonly late: ((response: unknown) => void) | undefined;
}

const MAX_BODY = 1_048_576;

/**
 * Sends each approval request to a URL as signed JSON and waits for the answer to come back
 * through `handleApprovalCallback`. The POST carries `toolgate-timestamp` and
 * `toolgate-signature: v1=<hex HMAC-SHA256 of "<timestamp>.<body>">` (check it with
 * `verifyWebhookSignature`); the answer must be a token from `signApprovalResponse`, bound to the
 * request. Without a secret this throws a ConfigurationError: nothing leaves the process unsigned.
 *
 * @example
 * const webhook = webhookApprover({ url: 'https://approvals.example.com/hook', secret: process.env.APPROVAL_SECRET! });
 * app.post('/toolgate/callback', (req, res) => webhook.handleApprovalCallback(req, res));
 */
export function webhookApprover(options: WebhookApproverOptions): WebhookApprover {
  if (typeof options !== 'object' || options === null)
    throw new ConfigurationError('webhookApprover() takes an options object');
  const key = approvalSecret(options.secret, 'webhookApprover');
  let url: URL;
  try {
    url = new URL(String(options.url));
  } catch {
    throw new ConfigurationError('webhookApprover: url must be an absolute URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new ConfigurationError('webhookApprover: url must be http(s)');
  const timeoutMs = parseDuration(options.timeout ?? '10s', 'webhookApprover timeout');
  const replayMs = parseDuration(options.replayWindow ?? '5m', 'webhookApprover replayWindow');
  const now = checkedClock(options.now ?? Date.now, 'webhookApprover');
  const extraHeaders = { ...options.headers };
  const waiting = new Map<string, Waiting>();
  // Settled rounds of requests are remembered until they expire, so a late answer (or one replayed
  // in a later quorum round) is recognised and reported, never applied.
  const settled = new Map<string, { binding: ApprovalBinding; late: Waiting['late'] }>();
  const settle = (binding: ApprovalBinding, late: Waiting['late']) =>
    settled.set(roundKey(binding), { binding, late });

  const forget = () => {
    const t = now();
    for (const [id, entry] of settled) if (entry.binding.expiresAt + replayMs < t) settled.delete(id);
  };

  const approver: WebhookApprover = {
    name: options.name ?? 'webhook',
    get pending() {
      return waiting.size;
    },
    async request(request: ApprovalRequest, { signal, onLateResponse }): Promise<ApprovalResponse> {
      const binding = approvalBinding(request);
      const answer = new Promise<ApprovalResponse>((resolve, reject) => {
        waiting.set(request.id, { binding, resolve, late: onLateResponse });
        signal.addEventListener(
          'abort',
          () => {
            if (waiting.delete(request.id)) settle(binding, onLateResponse);
            reject(signal.reason);
          },
          { once: true },
        );
      });
      // Keep a rejection of `answer` handled even if the POST fails first.
      answer.catch(() => {});
      try {
        const body = JSON.stringify({ type: 'toolgate.approval-request', request, binding });
        const timestamp = now();
        const response = await fetch(url, {
          method: 'POST',
          headers: {
            ...extraHeaders,
            'content-type': 'application/json',
            'toolgate-timestamp': String(timestamp),
            'toolgate-signature': signWebhookBody(body, timestamp, key),
          },
          body,
          signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
          redirect: 'error',
        });
        await response.body?.cancel();
        if (!response.ok) throw new Error(`the webhook answered HTTP ${response.status}`);
      } catch (error) {
        if (waiting.delete(request.id)) settle(binding, onLateResponse);
        throw error;
      }
      return answer;
    },
    async handleApprovalCallback(req, res) {
      const result = await handle(req);
      if (res !== undefined) {
        res.writeHead(result.status, { ...result.headers });
        res.end(result.body);
      }
      return result;
    },
  };

  async function handle(req: ApprovalCallbackRequest): Promise<ApprovalCallbackResult> {
    let parsed: unknown;
    try {
      parsed = await readJson(req);
    } catch (error) {
      return reply(400, (error as Error).message);
    }
    const token = (parsed as { token?: unknown } | null)?.token;
    if (typeof token !== 'string' || Object.keys(parsed as object).length !== 1)
      return reply(400, 'expected {"token": "…"}');
    let at: number;
    try {
      at = now();
    } catch {
      // No time, no replay window: nothing is applied (the clock's fault is the host's to see).
      return reply(500, "the approver's clock failed");
    }
    const verified = verifyApprovalResponse(token, key, { now: at, maxAgeMs: replayMs });
    if (!verified.ok) return reply(401, verified.problem);
    const { binding, response } = verified.payload;
    const entry = waiting.get(binding.requestId);
    if (entry !== undefined && sameBinding(entry.binding, binding)) {
      // Consumed before resolving: a second answer with the same token finds nothing pending.
      waiting.delete(binding.requestId);
      settle(binding, entry.late);
      entry.resolve(response);
      return reply(200, 'ok');
    }
    forget();
    // The binding names the quorum round: an answer to an earlier round of a request still pending
    // is a late one, never an answer to the round asked now.
    const done = settled.get(roundKey(binding));
    if (done !== undefined && sameBinding(done.binding, binding)) {
      done.late?.(response);
      return reply(409, 'the request was already settled');
    }
    if (entry !== undefined) return reply(409, 'the answer is bound to another call');
    return reply(404, 'no such pending request');
  }

  return approver;
}

/** Settled answers are kept per request and quorum round. */
function roundKey(binding: ApprovalBinding): string {
  return `${binding.requestId}\u0000${binding.round ?? 0}`;
}

function reply(status: number, message: string): ApprovalCallbackResult {
  return {
    status,
    body: JSON.stringify(status === 200 ? { ok: true } : { ok: false, error: message }),
    headers: { 'content-type': 'application/json' },
  };
}

async function readJson(req: ApprovalCallbackRequest): Promise<unknown> {
  let text: string;
  const stream = (req as { body?: unknown }).body;
  if (stream instanceof ReadableStream) {
    // A Fetch Request: read with the cap, so an unauthenticated sender cannot make the app buffer
    // an endless body (`text()` reads it all before anything is checked).
    text = await readCapped(stream as ReadableStream<Uint8Array>);
  } else if (typeof (req as { text?: unknown }).text === 'function') {
    text = await (req as { text(): Promise<string> }).text();
  } else if (typeof req === 'object' && req !== null && 'body' in req && req.body != null) {
    // A framework (Express, Fastify, …) that already read the body.
    const body = req.body;
    if (typeof body === 'string') text = body;
    else if (body instanceof Uint8Array) text = Buffer.from(body).toString('utf8');
    else return body;
  } else if (isStream(req)) {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Uint8Array | string>) {
      const buffer = Buffer.from(chunk);
      size += buffer.length;
      if (size > MAX_BODY) throw new Error('body too large');
      chunks.push(buffer);
    }
    text = Buffer.concat(chunks).toString('utf8');
  } else {
    throw new Error('unreadable request');
  }
  if (text.length > MAX_BODY) throw new Error('body too large');
  try {
    return JSON.parse(text);
  } catch {
    throw new Error('body is not JSON');
  }
}

async function readCapped(stream: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stream.getReader();
  const chunks: Buffer[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY) {
      await reader.cancel().catch(() => {});
      throw new Error('body too large');
    }
    chunks.push(Buffer.from(value));
  }
  return Buffer.concat(chunks).toString('utf8');
}

function isStream(req: unknown): boolean {
  return typeof req === 'object' && req !== null && Symbol.asyncIterator in req;
}
