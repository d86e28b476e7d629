// G12 under a quorum: an answer is bound to the round it answers, so one approver's answer can
// never be taken again in a later round of the same request (webhook, queue, tokens).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { approvalQueue, queueApprover } from '../../src/approval/queue.ts';
import {
  type ApprovalBinding,
  approvalBinding,
  signApprovalResponse,
  verifyApprovalResponse,
} from '../../src/approval/token.ts';
import { webhookApprover } from '../../src/approval/webhook.ts';
import { type ApprovalRequest, memoryStore } from '../../src/index.ts';
import { ask, engine, ofType, setup, spy } from './helpers.ts';

const SECRET = 'rounds-secret-that-is-at-least-32-bytes';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

describe('bindings name the quorum round', () => {
  it('approvalBinding carries the round; a token for one round does not verify as another', () => {
    const request = {
      id: 'r1',
      callId: 'c1',
      tool: 't',
      args: {},
      argsHash: 'a'.repeat(64),
      context: {},
      reason: 'x',
      rules: [],
      expiresAt: 10_000,
    } as ApprovalRequest;
    const first = approvalBinding(request);
    const second = approvalBinding({ ...request, approvedBy: ['finance:alice'] });
    expect(first.round).toBe(0);
    expect(second.round).toBe(1);
    const token = signApprovalResponse(first, { requestId: 'r1', approved: true, approver: 'u' }, SECRET, 0);
    const verified = verifyApprovalResponse(token, SECRET, { now: 0, maxAgeMs: 1000 });
    expect(verified.ok && verified.payload.binding).toEqual(first);
    // A hand-built binding without a round is signed as the first round.
    const { round: _, ...legacy } = first;
    const old = signApprovalResponse(
      legacy as ApprovalBinding,
      { requestId: 'r1', approved: true, approver: 'u' },
      SECRET,
      0,
    );
    const read = verifyApprovalResponse(old, SECRET, { now: 0, maxAgeMs: 1000 });
    expect(read.ok && read.payload.binding).toEqual(first);
  });
});

describe('webhookApprover under a quorum', () => {
  it('refuses a round-0 answer replayed in round 1 (409, recorded as late), and the quorum completes', async () => {
    const hooks: { request: ApprovalRequest; binding: ApprovalBinding }[] = [];
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        hooks.push(JSON.parse(body));
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const webhook = webhookApprover({ url: `http://127.0.0.1:${port}/hook`, secret: SECRET });
    const { tg, audit } = setup({
      policy: engine(() => ask({ quorum: 2, timeout: 5_000 })),
      approver: webhook,
    });
    const tool = spy();
    const pending = tg.guard(tool.fn, { name: 't' })({ x: 1 }, { context: { principal: 'user:z' } });
    const hook = async (n: number) => {
      while (hooks.length < n) await sleep(5);
      return hooks[n - 1]!;
    };
    const first = await hook(1);
    const answer = (binding: ApprovalBinding, approver: string) =>
      signApprovalResponse(binding, { requestId: binding.requestId, approved: true, approver }, SECRET);
    const alice = answer(first.binding, 'finance:alice');
    expect((await webhook.handleApprovalCallback({ body: { token: alice } })).status).toBe(200);
    const second = await hook(2);
    expect(second.binding).toMatchObject({ requestId: first.binding.requestId, round: 1 });
    expect((await webhook.handleApprovalCallback({ body: { token: alice } })).status).toBe(409);
    expect(webhook.pending).toBe(1);
    const bob = answer(second.binding, 'finance:bob');
    expect((await webhook.handleApprovalCallback({ body: { token: bob } })).status).toBe(200);
    await expect(pending).resolves.toBe('ran');
    expect(tool.calls).toHaveLength(1);
    expect(ofType(audit.events, 'decision')[0]).toMatchObject({
      approvers: ['finance:alice', 'finance:bob'],
    });
    expect(ofType(audit.events, 'approval-response').filter((e) => e.late)).toEqual([
      expect.objectContaining({ approver: 'finance:alice', late: true }),
    ]);
    // Once settled, neither round's token is applied again.
    expect((await webhook.handleApprovalCallback({ body: { token: alice } })).status).toBe(409);
    expect((await webhook.handleApprovalCallback({ body: { token: bob } })).status).toBe(409);
  });
});

describe('queueApprover under a quorum', () => {
  it('ignores a round-0 answer written into the store again in round 1', async () => {
    const store = memoryStore();
    const { tg } = setup({
      policy: engine(() => ask({ quorum: 2, timeout: 5_000 })),
      approver: queueApprover({ store, secret: SECRET, pollMs: 20 }),
      store,
    });
    const tool = spy();
    const pending = tg.guard(tool.fn, { name: 't' })({});
    const queue = approvalQueue({ store, secret: SECRET });
    let [entry] = await queue.list();
    while (entry === undefined) {
      await sleep(10);
      [entry] = await queue.list();
    }
    // What an eavesdropper on the store captures of Alice's round-0 answer.
    const captured = signApprovalResponse(
      entry.binding,
      { requestId: entry.id, approved: true, approver: 'finance:alice' },
      SECRET,
    );
    await queue.resolve(entry.id, { approved: true, approver: 'finance:alice' });
    let next = await queue.get(entry.id);
    while (next?.request.approvedBy === undefined) {
      await sleep(10);
      next = await queue.get(entry.id);
    }
    await store.put('approval-answers', entry.id, { token: captured }, { now: Date.now(), ttlMs: 60_000 });
    await store.notify?.(`approval:${entry.id}`, 'answered');
    await sleep(100);
    expect(await queue.get(entry.id)).toBeDefined();
    await queue.resolve(entry.id, { approved: true, approver: 'finance:bob' });
    await expect(pending).resolves.toBe('ran');
  });
});
