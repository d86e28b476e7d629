import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type ApprovalRequest, type ApprovalResponse, callbackApprover, hashJson } from '../../src/index.ts';
import { fakeClock } from '../../src/testing/fakes.ts';
import { ask, engine, manualApprover, ofType, setup, spy } from './helpers.ts';

const approve = (request: { id: string }, approver = 'user:7', extra: Partial<ApprovalResponse> = {}) =>
  ({ requestId: request.id, approved: true, approver, ...extra }) as ApprovalResponse;

describe('the approval request', () => {
  it('carries id, call id, tool, args, args hash, context, reason, rules, expiry and policy version', async () => {
    const clock = fakeClock(1_000_000);
    const seen: unknown[] = [];
    const { tg, audit } = setup({
      policy: engine(() => ({ ...ask({ timeout: 60_000 }), policyVersion: 'v7' })),
      approver: callbackApprover((request) => {
        seen.push(request);
        return approve(request);
      }),
      now: clock.now,
    });
    const tool = spy();
    await tg.guard(tool.fn, { name: 'payments.refund' })(
      { orderId: 'o-1', amount: 40 },
      { context: { agent: 'bot', principal: 'user:42' } },
    );
    const request = seen[0] as Record<string, unknown>;
    const decision = ofType(audit.events, 'decision')[0]!;
    expect(request).toMatchObject({
      callId: decision.callId,
      tool: 'payments.refund',
      args: { orderId: 'o-1', amount: 40 },
      argsHash: hashJson({ orderId: 'o-1', amount: 40 }),
      context: { agent: 'bot', principal: 'user:42' },
      reason: 'needs a human',
      rules: ['needs-human'],
      expiresAt: 1_060_000,
      policyVersion: 'v7',
      requirements: { timeout: 60_000 },
    });
    expect(typeof request.id).toBe('string');
    expect(Object.isFrozen(request)).toBe(true);
    expect(ofType(audit.events, 'approval-request')[0]).toMatchObject({
      requestId: request.id,
      expiresAt: 1_060_000,
    });
    expect(decision).toMatchObject({ decision: 'allow', policyDecision: 'ask', approvers: ['user:7'] });
    expect(tool.calls).toHaveLength(1);
  });

  it('uses defaults.approvalTimeout when the rule sets none', async () => {
    const clock = fakeClock(0);
    let expiresAt = 0;
    const { tg } = setup({
      policy: engine(() => ask()),
      approver: callbackApprover((request) => {
        expiresAt = request.expiresAt;
        return approve(request);
      }),
      now: clock.now,
      defaults: { approvalTimeout: '2m' },
    });
    await tg.guard(() => 1, { name: 't' })({});
    expect(expiresAt).toBe(120_000);
  });
});

describe('failures deny with stable codes', () => {
  it('times out per rule (APPROVAL_TIMEOUT) without running the tool', async () => {
    const manual = manualApprover();
    const { tg } = setup({ policy: engine(() => ask({ timeout: 20 })), approver: manual.provider });
    const tool = spy();
    await expect(tg.guard(tool.fn, { name: 't' })({})).resolves.toMatchObject({ code: 'APPROVAL_TIMEOUT' });
    expect(manual.waiting[0]!.signal.aborted).toBe(true);
    expect(tool.calls).toHaveLength(0);
  });

  it('denies on caller abort (CANCELLED)', async () => {
    const manual = manualApprover();
    const { tg } = setup({ policy: engine(() => ask()), approver: manual.provider });
    const controller = new AbortController();
    const pending = tg.guard(() => 1, { name: 't' })({}, { signal: controller.signal });
    await manual.arrived();
    controller.abort();
    await expect(pending).resolves.toMatchObject({ code: 'CANCELLED' });
  });

  it.each([
    [
      'throws',
      () => {
        throw new Error('boom');
      },
      'APPROVAL_ERROR',
    ],
    ['rejects', () => Promise.reject(new Error('boom')), 'APPROVAL_ERROR'],
    ['answers true', () => true, 'APPROVAL_INVALID'],
    [
      'answers {approved: "true"}',
      (r: { id: string }) => ({ requestId: r.id, approved: 'true', approver: 'a' }),
      'APPROVAL_INVALID',
    ],
    [
      'adds a tool field (rename)',
      (r: { id: string }) => ({ ...approve(r), tool: 'other' }),
      'APPROVAL_INVALID',
    ],
    [
      'remembers with no duration',
      (r: { id: string }) => approve(r, 'a', { remember: {} as never }),
      'APPROVAL_INVALID',
    ],
    [
      'remembers with a bad scope',
      (r: { id: string }) => approve(r, 'a', { remember: { for: '1h', scope: { tool: 'x' } } }),
      'APPROVAL_INVALID',
    ],
    [
      'answers for another request',
      () => ({ requestId: 'other', approved: true, approver: 'a' }),
      'APPROVAL_MISMATCH',
    ],
    [
      'denies',
      (r: { id: string }) => ({ requestId: r.id, approved: false, approver: 'a', reason: 'no' }),
      'APPROVAL_DENIED',
    ],
    // Read once, as data: a getter never runs, so it can neither throw at the flow nor say one
    // thing when checked and another when used.
    [
      'answers with a getter that throws',
      (r: { id: string }) => ({
        requestId: r.id,
        get approved(): boolean {
          throw new Error('boom');
        },
        approver: 'a',
      }),
      'APPROVAL_INVALID',
    ],
    [
      'answers with a getter that changes its answer',
      (r: { id: string }) => {
        let reads = 0;
        return {
          requestId: r.id,
          get approved() {
            reads += 1;
            return reads !== 1;
          },
          approver: 'a',
          reason: 'no',
        };
      },
      'APPROVAL_INVALID',
    ],
    [
      'answers a class instance',
      (r: { id: string }) => Object.assign(new (class Answer {})(), approve(r)),
      'APPROVAL_INVALID',
    ],
  ])('approver %s', async (_name, answer, code) => {
    const { tg, audit } = setup({ policy: engine(() => ask()), approver: callbackApprover(answer as never) });
    const tool = spy();
    await expect(tg.guard(tool.fn, { name: 't' })({})).resolves.toMatchObject({ code });
    expect(tool.calls).toHaveLength(0);
    expect(ofType(audit.events, 'approval-response')[0]).toMatchObject({ code });
    expect(ofType(audit.events, 'decision')).toHaveLength(1);
  });

  it('a malformed approval requirement from the policy denies (POLICY_ERROR)', async () => {
    for (const approval of [
      { quorum: 0 },
      { quorum: 1.5 },
      { approvers: [] },
      { timeout: 'soon' },
      { bogus: 1 },
    ]) {
      const { tg } = setup({
        policy: engine(() => ask(approval as never)),
        approver: callbackApprover((r) => approve(r)),
      });
      await expect(tg.guard(() => 1, { name: 't' })({})).resolves.toMatchObject({ code: 'POLICY_ERROR' });
    }
  });
});

describe('an approver that cannot give its name', () => {
  it('is recorded as unnamed, and its answer still decides', async () => {
    const approver = callbackApprover((r) => approve(r));
    Object.defineProperty(approver, 'name', {
      get() {
        throw new Error('no name');
      },
    });
    const { tg, audit } = setup({ policy: engine(() => ask()), approver });
    await expect(tg.guard(() => 'ran', { name: 't' })({})).resolves.toBe('ran');
    expect(ofType(audit.events, 'approval-request')[0]).toMatchObject({ provider: 'unnamed' });
  });
});

describe('first settlement wins', () => {
  it('a late answer is ignored and recorded with late: true', async () => {
    const manual = manualApprover();
    const { tg, audit } = setup({ policy: engine(() => ask({ timeout: 20 })), approver: manual.provider });
    const tool = spy();
    await expect(tg.guard(tool.fn, { name: 't' })({})).resolves.toMatchObject({ code: 'APPROVAL_TIMEOUT' });
    const entry = manual.waiting[0]!;
    entry.resolve(approve(entry.request, 'slowpoke'));
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(tool.calls).toHaveLength(0);
    const responses = ofType(audit.events, 'approval-response');
    expect(responses).toHaveLength(2);
    expect(responses[1]).toMatchObject({
      late: true,
      approved: true,
      approver: 'slowpoke',
      requestId: entry.request.id,
    });
    expect(ofType(audit.events, 'decision')).toHaveLength(1);
  });

  it('a second answer reported by the channel is recorded as late', async () => {
    const manual = manualApprover();
    const { tg, audit } = setup({ policy: engine(() => ask()), approver: manual.provider });
    const pending = tg.guard(() => 1, { name: 't' })({});
    const entry = await manual.arrived();
    entry.resolve({ requestId: entry.request.id, approved: false, approver: 'a', reason: 'no' });
    await expect(pending).resolves.toMatchObject({ code: 'APPROVAL_DENIED' });
    entry.late!(approve(entry.request, 'b'));
    expect(ofType(audit.events, 'approval-response').at(-1)).toMatchObject({ late: true, approver: 'b' });
  });
});

describe('edit then approve', () => {
  const Args = z.object({ amount: z.number().max(1000) }).strict();

  it('runs the edited args, bound to their hash', async () => {
    const { tg, audit } = setup({
      policy: engine(() => ask()),
      approver: callbackApprover((r) => approve(r, 'user:7', { args: { amount: 10 } })),
    });
    const tool = spy();
    await tg.guard(tool.fn, { name: 't', input: Args })({ amount: 500 });
    expect(tool.calls).toEqual([{ amount: 10 }]);
    expect(Object.isFrozen(tool.calls[0])).toBe(true);
    const response = ofType(audit.events, 'approval-response')[0]!;
    expect(response).toMatchObject({ edited: true, argsHash: hashJson({ amount: 10 }) });
    expect(ofType(audit.events, 'decision')[0]!.argsHash).toBe(hashJson({ amount: 10 }));
  });

  it('re-validates edited args against the schema', async () => {
    const { tg } = setup({
      policy: engine(() => ask()),
      approver: callbackApprover((r) => approve(r, 'user:7', { args: { amount: 5000 } })),
    });
    const tool = spy();
    await expect(tg.guard(tool.fn, { name: 't', input: Args })({ amount: 5 })).resolves.toMatchObject({
      code: 'APPROVAL_INVALID',
    });
    expect(tool.calls).toHaveLength(0);
  });

  it('re-evaluates edited args: a deny still wins', async () => {
    const { tg } = setup({
      policy: engine((request) =>
        (request.args.amount as number) > 100
          ? { type: 'deny', rules: ['cap'], code: 'DENIED_BY_RULE', reason: 'too much' }
          : ask(),
      ),
      approver: callbackApprover((r) => approve(r, 'user:7', { args: { amount: 900 } })),
    });
    const tool = spy();
    await expect(tg.guard(tool.fn, { name: 't' })({ amount: 5 })).resolves.toMatchObject({
      code: 'DENIED_BY_RULE',
    });
    expect(tool.calls).toHaveLength(0);
  });

  it('edited args that need a larger quorum are refused', async () => {
    const { tg } = setup({
      policy: engine((request) => ((request.args.amount as number) > 100 ? ask({ quorum: 2 }) : ask())),
      approver: callbackApprover((r) => approve(r, 'user:7', { args: { amount: 900 } })),
    });
    await expect(tg.guard(() => 1, { name: 't' })({ amount: 5 })).resolves.toMatchObject({
      code: 'APPROVAL_INVALID',
    });
  });

  it('mutating the edited object after answering changes nothing (snapshot)', async () => {
    const edited = { amount: 10, nested: { to: 'a' } };
    const tool = spy();
    const { tg } = setup({
      policy: engine(() => ask()),
      approver: callbackApprover(async (r) => {
        setTimeout(() => {
          edited.nested.to = 'evil';
        }, 0);
        return approve(r, 'user:7', { args: edited });
      }),
    });
    await tg.guard(
      async (args: unknown) => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        return tool.fn(JSON.parse(JSON.stringify(args)));
      },
      { name: 't' },
    )({ amount: 1, nested: { to: 'x' } });
    expect(tool.calls).toEqual([{ amount: 10, nested: { to: 'a' } }]);
  });

  it('an edit carrying __proto__ stays data and pollutes nothing', async () => {
    const tool = spy();
    const { tg } = setup({
      policy: engine(() => ask()),
      approver: callbackApprover((r) =>
        approve(r, 'u', { args: JSON.parse('{"__proto__":{"polluted":1},"a":1}') }),
      ),
    });
    await tg.guard(tool.fn, { name: 't' })({ a: 0 });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.hasOwn(tool.calls[0] as object, '__proto__')).toBe(true);
  });
});

describe('quorum and separation of duties', () => {
  it('needs N distinct approvers and tells the provider who already approved', async () => {
    const seen: (readonly string[] | undefined)[] = [];
    const answers = ['finance:ann', 'finance:bob'];
    const { tg, audit } = setup({
      policy: engine(() => ask({ quorum: 2, approvers: ['finance:*'] })),
      approver: callbackApprover((r) => {
        seen.push(r.approvedBy);
        return approve(r, answers.shift()!);
      }),
    });
    const tool = spy();
    await tg.guard(tool.fn, { name: 't' })({});
    expect(tool.calls).toHaveLength(1);
    expect(seen).toEqual([undefined, ['finance:ann']]);
    expect(ofType(audit.events, 'decision')[0]).toMatchObject({ approvers: ['finance:ann', 'finance:bob'] });
    expect(ofType(audit.events, 'approval-response')).toHaveLength(2);
  });

  it('the same approver twice does not make a quorum', async () => {
    const { tg } = setup({
      policy: engine(() => ask({ quorum: 2 })),
      approver: callbackApprover((r) => approve(r, 'finance:ann')),
    });
    const tool = spy();
    await expect(tg.guard(tool.fn, { name: 't' })({})).resolves.toMatchObject({ code: 'APPROVAL_INVALID' });
    expect(tool.calls).toHaveLength(0);
  });

  it('an approver outside the approvers globs is refused', async () => {
    const { tg } = setup({
      policy: engine(() => ask({ approvers: ['finance:*'] })),
      approver: callbackApprover((r) => approve(r, 'sales:carl')),
    });
    await expect(tg.guard(() => 1, { name: 't' })({})).resolves.toMatchObject({ code: 'APPROVAL_INVALID' });
  });

  it('one denial in a quorum denies', async () => {
    const answers: ApprovalResponse[] = [];
    const { tg } = setup({
      policy: engine(() => ask({ quorum: 3 })),
      approver: callbackApprover((r) => {
        answers.push(
          answers.length === 0
            ? approve(r, 'a')
            : { requestId: r.id, approved: false, approver: 'b', reason: 'no' },
        );
        return answers.at(-1)!;
      }),
    });
    await expect(tg.guard(() => 1, { name: 't' })({})).resolves.toMatchObject({ code: 'APPROVAL_DENIED' });
  });

  it('the principal cannot approve their own call with separationOfDuties', async () => {
    const { tg } = setup({
      policy: engine(() => ask({ separationOfDuties: true })),
      approver: callbackApprover((r) => approve(r, 'user:42')),
    });
    const call = tg.guard(() => 1, { name: 't' });
    await expect(call({}, { context: { principal: 'user:42' } })).resolves.toMatchObject({
      code: 'APPROVAL_INVALID',
    });
    await expect(call({}, { context: { principal: 'user:43' } })).resolves.toBe(1);
  });

  it('without separationOfDuties the principal may approve', async () => {
    const { tg } = setup({
      policy: engine(() => ask()),
      approver: callbackApprover((r) => approve(r, 'user:42')),
    });
    await expect(tg.guard(() => 1, { name: 't' })({}, { context: { principal: 'user:42' } })).resolves.toBe(
      1,
    );
  });

  it('edits are refused under a quorum', async () => {
    const names = ['a', 'b'];
    const { tg } = setup({
      policy: engine(() => ask({ quorum: 2 })),
      approver: callbackApprover((r) => approve(r, names.shift()!, { args: { x: 1 } })),
    });
    await expect(tg.guard(() => 1, { name: 't' })({})).resolves.toMatchObject({ code: 'APPROVAL_INVALID' });
  });
});

describe('binding and single use', () => {
  it('an answer captured from one call cannot approve another', async () => {
    let captured: ApprovalResponse | undefined;
    const { tg } = setup({
      policy: engine(() => ask()),
      approver: callbackApprover((r) => {
        if (captured === undefined) {
          captured = approve(r);
          return captured;
        }
        return captured; // replay for a second call, other args
      }),
    });
    const tool = spy();
    const call = tg.guard(tool.fn, { name: 't' });
    await expect(call({ a: 1 })).resolves.toBe('ran');
    await expect(call({ a: 1 })).resolves.toMatchObject({ code: 'APPROVAL_MISMATCH' });
    await expect(call({ a: 2 })).resolves.toMatchObject({ code: 'APPROVAL_MISMATCH' });
    expect(tool.calls).toHaveLength(1);
  });
});

describe('flood control', () => {
  it('caps pending approvals per principal without asking anyone', async () => {
    const manual = manualApprover();
    const { tg, audit } = setup({
      policy: engine(() => ask()),
      approver: manual.provider,
      defaults: { maxPendingApprovals: 2 },
    });
    const call = tg.guard(() => 1, { name: 't' });
    const first = call({}, { context: { principal: 'p' } });
    const second = call({}, { context: { principal: 'p' } });
    await manual.arrived(2);
    await expect(call({}, { context: { principal: 'p' } })).resolves.toMatchObject({
      code: 'APPROVAL_RATE_LIMITED',
    });
    expect(manual.waiting).toHaveLength(2);
    expect(ofType(audit.events, 'approval-request')).toHaveLength(2);
    // Another principal is not affected.
    const other = call({}, { context: { principal: 'q' } });
    await manual.arrived(3);
    for (const entry of manual.waiting) entry.resolve(approve(entry.request));
    await expect(Promise.all([first, second, other])).resolves.toEqual([1, 1, 1]);
    // Slots are released once settled.
    const again = call({}, { context: { principal: 'p' } });
    const entry = await manual.arrived(4);
    entry.resolve(approve(entry.request));
    await expect(again).resolves.toBe(1);
  });

  it('caps approval requests per principal per minute (guard clock)', async () => {
    const clock = fakeClock(0);
    const { tg } = setup({
      policy: engine(() => ask()),
      approver: callbackApprover((r) => approve(r)),
      now: clock.now,
      defaults: { approvalsPerMinute: 2 },
    });
    const call = tg.guard(() => 1, { name: 't' });
    await expect(call({})).resolves.toBe(1);
    await expect(call({})).resolves.toBe(1);
    await expect(call({})).resolves.toMatchObject({ code: 'APPROVAL_RATE_LIMITED' });
    clock.advance(60_001);
    await expect(call({})).resolves.toBe(1);
  });
});

describe('what the approver sees', () => {
  it('secrets in args are redacted in the prompt; the tool still gets the real args', async () => {
    const seen: ApprovalRequest[] = [];
    const { tg } = setup({
      policy: engine(() => ask()),
      approver: callbackApprover((r) => {
        seen.push(r);
        return approve(r);
      }),
    });
    const tool = spy();
    const token =
      'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U';
    await tg.guard(tool.fn, { name: 'http.get' })({ url: 'https://api.example.com', authorization: token });
    expect(JSON.stringify(seen[0]!.args)).not.toContain('eyJhbGciOiJIUzI1NiJ9');
    expect(seen[0]!.argsHash).toBe(hashJson({ url: 'https://api.example.com', authorization: token }));
    expect(tool.calls).toEqual([{ url: 'https://api.example.com', authorization: token }]);
  });

  it('mutating the caller’s args while approval is pending changes nothing (TOCTOU)', async () => {
    const manual = manualApprover();
    const { tg } = setup({ policy: engine(() => ask()), approver: manual.provider });
    const tool = spy();
    const args = { to: 'alice', nested: { amount: 1 } };
    const pending = tg.guard(tool.fn, { name: 't' })(args);
    const entry = await manual.arrived();
    args.to = 'mallory';
    args.nested.amount = 1_000_000;
    entry.resolve(approve(entry.request));
    await pending;
    expect(entry.request.args).toEqual({ to: 'alice', nested: { amount: 1 } });
    expect(tool.calls).toEqual([{ to: 'alice', nested: { amount: 1 } }]);
  });
});
