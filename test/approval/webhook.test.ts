import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type ApprovalBinding,
  signApprovalResponse,
  verifyWebhookSignature,
} from '../../src/approval/token.ts';
import { type WebhookApprover, webhookApprover } from '../../src/approval/webhook.ts';
import { type ApprovalRequest, type ApprovalResponse, ConfigurationError } from '../../src/index.ts';
import { ask, engine, ofType, setup, spy } from './helpers.ts';

const SECRET = 'a-test-secret-that-is-32-bytes-long!!';

interface Hook {
  body: string;
  headers: IncomingMessage['headers'];
  parsed: { type: string; request: ApprovalRequest; binding: ApprovalBinding };
}

/** A real HTTP server on 127.0.0.1: `/hook` plays the approval UI, `/callback` is mounted by the app. */
let server: Server;
let base: string;
let hooks: Hook[];
let hookStatus: number;
let approver: WebhookApprover | undefined;
let onHook: (() => void) | undefined;

beforeEach(async () => {
  hooks = [];
  hookStatus = 202;
  approver = undefined;
  server = createServer(async (req, res) => {
    if (req.url === '/callback') {
      await approver!.handleApprovalCallback(req, res);
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    hooks.push({ body, headers: req.headers, parsed: JSON.parse(body) });
    res.writeHead(hookStatus).end();
    onHook?.();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

async function nextHook(): Promise<Hook> {
  const count = hooks.length;
  while (hooks.length === count) await new Promise<void>((resolve) => (onHook = resolve));
  return hooks.at(-1)!;
}

async function callback(token: unknown): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${base}/callback`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token }),
  });
  return { status: response.status, body: await response.json() };
}

function guardWith(timeout = 10_000) {
  approver = webhookApprover({ url: `${base}/hook`, secret: SECRET });
  const { tg, audit } = setup({ policy: engine(() => ask({ timeout })), approver });
  const tool = spy();
  return { tg, audit, tool, call: tg.guard(tool.fn, { name: 'payments.refund' }) };
}

const yes = (binding: ApprovalBinding, approver = 'user:7'): ApprovalResponse => ({
  requestId: binding.requestId,
  approved: true,
  approver,
});

describe('webhookApprover', () => {
  it('refuses to exist without a key', () => {
    expect(() => webhookApprover({ url: 'http://127.0.0.1/', secret: undefined as never })).toThrow(
      ConfigurationError,
    );
    expect(() => webhookApprover({ url: 'http://127.0.0.1/', secret: 'short' })).toThrow(ConfigurationError);
    expect(() => webhookApprover({ url: 'not a url', secret: SECRET })).toThrow(ConfigurationError);
  });

  it('POSTs a signed request and runs the call when a signed approval comes back', async () => {
    const { call, tool, audit } = guardWith();
    const pending = call({ orderId: 'o-1', amount: 400 }, { context: { principal: 'user:42' } });
    const hook = await nextHook();
    expect(
      verifyWebhookSignature({
        body: hook.body,
        timestamp: hook.headers['toolgate-timestamp'] as string,
        signature: hook.headers['toolgate-signature'] as string,
        secret: SECRET,
      }),
    ).toBe(true);
    expect(
      verifyWebhookSignature({
        body: hook.body.replace('400', '4'),
        timestamp: hook.headers['toolgate-timestamp'] as string,
        signature: hook.headers['toolgate-signature'] as string,
        secret: SECRET,
      }),
    ).toBe(false);
    expect(hook.parsed.request).toMatchObject({
      tool: 'payments.refund',
      args: { orderId: 'o-1', amount: 400 },
    });
    expect(hook.parsed.binding).toMatchObject({ principal: 'user:42', tool: 'payments.refund' });
    const token = signApprovalResponse(hook.parsed.binding, yes(hook.parsed.binding), SECRET);
    expect(await callback(token)).toEqual({ status: 200, body: { ok: true } });
    await expect(pending).resolves.toBe('ran');
    expect(tool.calls).toHaveLength(1);
    // Single use: the same token again finds nothing pending.
    expect((await callback(token)).status).toBe(409);
    expect(ofType(audit.events, 'approval-response').at(-1)).toMatchObject({ late: true });
    expect(tool.calls).toHaveLength(1);
  });

  it('refuses forged, tampered, stale and rebound answers, and keeps waiting for the real one', async () => {
    const { call, tool } = guardWith();
    const pending = call({ amount: 400 }, { context: { principal: 'user:42' } });
    const { parsed } = await nextHook();
    const b = parsed.binding;
    // Signed with another key.
    expect(
      (await callback(signApprovalResponse(b, yes(b), 'another-secret-that-is-32-bytes-long!'))).status,
    ).toBe(401);
    // Tampered payload.
    const good = signApprovalResponse(
      b,
      { ...yes(b), approved: false, reason: 'x' } as ApprovalResponse,
      SECRET,
    );
    const [p, kind, body, mac] = good.split('.');
    const tampered = JSON.parse(Buffer.from(body!, 'base64url').toString());
    tampered.response = yes(b);
    expect(
      (await callback([p, kind, Buffer.from(JSON.stringify(tampered)).toString('base64url'), mac].join('.')))
        .status,
    ).toBe(401);
    // Outside the replay window.
    expect((await callback(signApprovalResponse(b, yes(b), SECRET, Date.now() - 3_600_000))).status).toBe(
      401,
    );
    // Bound to other args, another tool, another principal, another call.
    for (const other of [
      { argsHash: '0'.repeat(64) },
      { tool: 'payments.refund2' },
      { principal: 'user:43' },
      { callId: 'other-call' },
    ]) {
      const rebound = { ...b, ...other };
      expect((await callback(signApprovalResponse(rebound, yes(rebound), SECRET))).status).toBe(409);
    }
    // Unknown request.
    const unknown = { ...b, requestId: 'nope' };
    expect((await callback(signApprovalResponse(unknown, yes(unknown), SECRET))).status).toBe(404);
    // Malformed bodies.
    expect((await callback(42)).status).toBe(400);
    expect((await callback('tg1.response.e30.AAAA')).status).toBe(401);
    expect(tool.calls).toHaveLength(0);
    // The real answer still works.
    expect((await callback(signApprovalResponse(b, yes(b), SECRET))).status).toBe(200);
    await expect(pending).resolves.toBe('ran');
  });

  it('refuses an answer from a look-alike identity (401, like any token that fails verification) and keeps waiting', async () => {
    const { call, tool } = guardWith();
    const pending = call({ amount: 400 }, { context: { principal: 'user:42' } });
    const { parsed } = await nextHook();
    const b = parsed.binding;
    for (const lookAlike of ['user:7\u200b', 'user:7 ', '\u00aduser:7'])
      expect((await callback(signApprovalResponse(b, yes(b, lookAlike), SECRET))).status).toBe(401);
    expect(tool.calls).toHaveLength(0);
    expect((await callback(signApprovalResponse(b, yes(b), SECRET))).status).toBe(200);
    await expect(pending).resolves.toBe('ran');
  });

  it('a denial travels back too', async () => {
    const { call, tool } = guardWith();
    const pending = call({ amount: 1 });
    const { parsed } = await nextHook();
    const b = parsed.binding;
    const token = signApprovalResponse(
      b,
      { requestId: b.requestId, approved: false, approver: 'u', reason: 'nope' },
      SECRET,
    );
    expect((await callback(token)).status).toBe(200);
    await expect(pending).resolves.toMatchObject({
      code: 'APPROVAL_DENIED',
      reason: expect.stringContaining('nope'),
    });
    expect(tool.calls).toHaveLength(0);
  });

  it('a failing webhook denies (APPROVAL_ERROR)', async () => {
    hookStatus = 500;
    const { call } = guardWith();
    await expect(call({})).resolves.toMatchObject({ code: 'APPROVAL_ERROR' });
    expect(approver!.pending).toBe(0);
  });

  it('an answer after the timeout is refused (409) and recorded as late', async () => {
    const { call, audit, tool } = guardWith(300);
    const pending = call({});
    const { parsed } = await nextHook();
    await expect(pending).resolves.toMatchObject({ code: 'APPROVAL_TIMEOUT' });
    expect((await callback(signApprovalResponse(parsed.binding, yes(parsed.binding), SECRET))).status).toBe(
      409,
    );
    expect(ofType(audit.events, 'approval-response').at(-1)).toMatchObject({
      late: true,
      approver: 'user:7',
    });
    expect(tool.calls).toHaveLength(0);
  });

  it('accepts a pre-parsed body or a Fetch Request', async () => {
    const { call } = guardWith();
    const pending = call({});
    const { parsed } = await nextHook();
    const token = signApprovalResponse(parsed.binding, yes(parsed.binding), SECRET);
    const bad = await approver!.handleApprovalCallback({ body: { token: 'x' } });
    expect(bad.status).toBe(401);
    const result = await approver!.handleApprovalCallback(
      new Request('http://x/', { method: 'POST', body: JSON.stringify({ token }) }),
    );
    expect(result.status).toBe(200);
    await expect(pending).resolves.toBe('ran');
  });

  it('applies no answer while its clock answers no time (500)', async () => {
    const broken = webhookApprover({ url: 'http://127.0.0.1:9/hook', secret: SECRET, now: () => Number.NaN });
    const binding: ApprovalBinding = {
      requestId: 'r1',
      callId: 'c1',
      tool: 't',
      argsHash: 'a'.repeat(64),
      principal: null,
      policyVersion: null,
      expiresAt: Date.now() + 60_000,
    };
    const token = signApprovalResponse(binding, yes(binding), SECRET);
    const result = await broken.handleApprovalCallback({ body: { token } });
    expect(result.status).toBe(500);
    expect(result.body).toMatch(/clock failed/);
  });
});

describe('the callback reads at most its cap of a Fetch request', () => {
  it('a body past 1 MiB is refused (400) after reading about 1 MiB of it, not all of it', async () => {
    const hook = webhookApprover({ url: 'http://127.0.0.1:9/hook', secret: SECRET });
    const chunk = new Uint8Array(64 * 1024).fill(0x20);
    let pulled = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        // 256 MiB of spaces, unauthenticated: nothing has been checked yet when it is read.
        if (pulled >= 256 * 1024 * 1024) return controller.close();
        pulled += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    const request = new Request('http://127.0.0.1/callback', {
      method: 'POST',
      body,
      duplex: 'half',
    } as RequestInit);
    const result = await hook.handleApprovalCallback(request);
    expect(result.status).toBe(400);
    expect(pulled).toBeLessThanOrEqual(2 * 1024 * 1024);
  });
});
