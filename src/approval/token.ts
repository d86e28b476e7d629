import { createHmac, timingSafeEqual } from 'node:crypto';
import { canonicalJson } from '../_internal/canonical.ts';
import { isTime } from '../_internal/host-functions.ts';
import { ConfigurationError } from '../errors.ts';
import { responseProblem } from './messages.ts';
import type { ApprovalRequest, ApprovalResponse } from './types.ts';

/**
 * What an approval is bound to. An answer that travels outside the process carries the binding
 * of the request it answers, signed; the waiting call accepts it only if every field matches.
 */
export interface ApprovalBinding {
  readonly requestId: string;
  readonly callId: string;
  readonly tool: string;
  readonly argsHash: string;
  /** The call's principal, or `null` when it had none. */
  readonly principal: string | null;
  /** The policy version that asked, or `null`. */
  readonly policyVersion: string | null;
  readonly expiresAt: number;
  /**
   * The quorum round asked (how many approvals were counted before it: `approvedBy.length`, 0 for
   * the first), so an answer given in one round can never be taken again in the next. Always set by
   * `approvalBinding`; a binding built by hand without it is signed as round 0.
   */
  readonly round?: number;
}

/** A signed answer to one approval request. */
export interface ApprovalTokenPayload {
  readonly binding: ApprovalBinding;
  readonly response: ApprovalResponse;
  /** When the token was signed (epoch ms); tokens older than the replay window are refused. */
  readonly iat: number;
}

/** An HMAC key: a string (UTF-8) or bytes, at least 32 bytes long. */
export type ApprovalSecret = string | Uint8Array;

const TOKEN_PREFIX = 'tg1';
const MIN_SECRET_BYTES = 32;

/** Normalizes and checks an HMAC key; a missing or short key is a configuration error. */
export function approvalSecret(secret: unknown, what: string): Buffer {
  if (typeof secret !== 'string' && !(secret instanceof Uint8Array)) {
    throw new ConfigurationError(
      `${what} needs a secret (a string or bytes of at least ${MIN_SECRET_BYTES} bytes): approvals that leave the process are always signed`,
    );
  }
  const key = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret);
  if (key.length < MIN_SECRET_BYTES)
    throw new ConfigurationError(`${what}: the secret must be at least ${MIN_SECRET_BYTES} bytes`);
  return key;
}

/** The binding of an approval request. */
export function approvalBinding(request: ApprovalRequest): ApprovalBinding {
  return {
    requestId: request.id,
    callId: request.callId,
    tool: request.tool,
    argsHash: request.argsHash,
    principal: request.context.principal ?? null,
    policyVersion: request.policyVersion ?? null,
    expiresAt: request.expiresAt,
    round: request.approvedBy?.length ?? 0,
  };
}

/** True when two bindings name exactly the same request, call, tool, args, principal, policy, expiry and round. */
export function sameBinding(a: ApprovalBinding, b: ApprovalBinding): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

function mac(key: Buffer, kind: string, body: string): Buffer {
  // The kind is part of what is signed, so a signed request can never pass as a signed answer.
  return createHmac('sha256', key).update(`${TOKEN_PREFIX}.${kind}.${body}`, 'utf8').digest();
}

/** Signs any JSON payload as `tg1.<kind>.<base64url payload>.<base64url HMAC-SHA256>`. */
export function signPayload(kind: string, payload: unknown, secret: ApprovalSecret): string {
  const key = approvalSecret(secret, 'signPayload');
  const body = Buffer.from(canonicalJson(payload), 'utf8').toString('base64url');
  return `${TOKEN_PREFIX}.${kind}.${body}.${mac(key, kind, body).toString('base64url')}`;
}

/** Verifies a signed payload in constant time and parses it; never throws. */
export function verifyPayload(
  kind: string,
  token: unknown,
  secret: ApprovalSecret,
): { ok: true; payload: unknown } | { ok: false; problem: string } {
  if (typeof token !== 'string' || token.length > 1_048_576) return { ok: false, problem: 'not a token' };
  const parts = token.split('.');
  if (parts.length !== 4 || parts[0] !== TOKEN_PREFIX) return { ok: false, problem: 'not a toolgate token' };
  if (parts[1] !== kind) return { ok: false, problem: `not a ${kind} token` };
  const body = parts[2]!;
  const given = Buffer.from(parts[3]!, 'base64url');
  const expected = mac(approvalSecret(secret, 'verifyPayload'), kind, body);
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return { ok: false, problem: 'bad signature' };
  try {
    return { ok: true, payload: JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) };
  } catch {
    return { ok: false, problem: 'unreadable payload' };
  }
}

/**
 * Signs an answer to an approval request for a channel that leaves the process (webhook, queue,
 * CLI). The token binds the answer to the request's id, call, tool, args hash, principal, policy
 * version, expiry and quorum round.
 *
 * @example
 * const token = signApprovalResponse(request, { requestId: request.id, approved: true, approver: 'user:7' },
 *   process.env.TOOLGATE_APPROVAL_SECRET!);
 */
export function signApprovalResponse(
  request: ApprovalRequest | ApprovalBinding,
  response: ApprovalResponse,
  secret: ApprovalSecret,
  now: number = Date.now(),
): string {
  const binding =
    'requestId' in request
      ? request.round === undefined
        ? { ...request, round: 0 }
        : request
      : approvalBinding(request);
  const payload: ApprovalTokenPayload = { binding, response, iat: now };
  return signPayload('response', payload, secret);
}

/**
 * Verifies a signed answer: signature (constant time), shape, age within `maxAgeMs`, and that the
 * response names the request of its binding. Binding against the waiting request is the caller's.
 */
export function verifyApprovalResponse(
  token: unknown,
  secret: ApprovalSecret,
  options: { now: number; maxAgeMs: number },
): { ok: true; payload: ApprovalTokenPayload } | { ok: false; problem: string } {
  const verified = verifyPayload('response', token, secret);
  if (!verified.ok) return verified;
  const raw = verified.payload as Record<string, unknown> | null;
  if (typeof raw !== 'object' || raw === null) return { ok: false, problem: 'payload is not an object' };
  const binding = bindingProblem(raw.binding);
  if (binding !== undefined) return { ok: false, problem: binding };
  const problem = responseProblem(raw.response);
  if (problem !== undefined) return { ok: false, problem: `response: ${problem}` };
  if (typeof raw.iat !== 'number' || !Number.isFinite(raw.iat)) return { ok: false, problem: 'iat missing' };
  if (!isTime(options.now)) return { ok: false, problem: 'now is not a finite number of epoch ms' };
  // Written so that a window that is no number (NaN compares false) refuses too.
  if (!(Math.abs(options.now - raw.iat) <= options.maxAgeMs))
    return { ok: false, problem: 'token outside the replay window' };
  const payload = raw as unknown as ApprovalTokenPayload;
  if (payload.response.requestId !== payload.binding.requestId)
    return { ok: false, problem: 'response names another request' };
  return { ok: true, payload };
}

function bindingProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return 'binding missing';
  const b = value as Record<string, unknown>;
  for (const key of ['requestId', 'callId', 'tool', 'argsHash'] as const) {
    if (typeof b[key] !== 'string') return `binding.${key} must be a string`;
  }
  if (b.principal !== null && typeof b.principal !== 'string') return 'binding.principal invalid';
  if (b.policyVersion !== null && typeof b.policyVersion !== 'string') return 'binding.policyVersion invalid';
  if (typeof b.expiresAt !== 'number') return 'binding.expiresAt must be a number';
  if (!Number.isSafeInteger(b.round) || (b.round as number) < 0)
    return 'binding.round must be a non-negative integer';
  if (Object.keys(b).length !== 8) return 'binding has unexpected fields';
  return undefined;
}

/** Signature header value for a webhook body: `v1=<hex HMAC-SHA256 of "<timestamp>.<body>">`. */
export function signWebhookBody(body: string, timestamp: number, secret: ApprovalSecret): string {
  const key = approvalSecret(secret, 'signWebhookBody');
  return `v1=${createHmac('sha256', key).update(`${timestamp}.${body}`, 'utf8').digest('hex')}`;
}

/**
 * Verifies a webhook signature (constant time) and that its timestamp is within `toleranceMs`
 * (default five minutes) of `now`. Use it on the receiving side of `webhookApprover`.
 */
export function verifyWebhookSignature(options: {
  body: string;
  timestamp: string | number | undefined;
  signature: string | undefined;
  secret: ApprovalSecret;
  now?: number;
  toleranceMs?: number;
}): boolean {
  const timestamp = Number(options.timestamp);
  if (!Number.isSafeInteger(timestamp) || typeof options.signature !== 'string') return false;
  const now = options.now ?? Date.now();
  if (!isTime(now)) return false;
  // Written so that a tolerance that is no number (NaN compares false) refuses too.
  if (!(Math.abs(now - timestamp) <= (options.toleranceMs ?? 300_000))) return false;
  const expected = Buffer.from(signWebhookBody(options.body, timestamp, options.secret));
  const given = Buffer.from(options.signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
