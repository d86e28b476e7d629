import { describe, expect, it } from 'vitest';
import {
  autoApprove,
  createGuard,
  type Decision,
  type GuardOptions,
  memoryAudit,
  type PolicyEngine,
  type ToolRequest,
} from '../../src/index.ts';
import { fakeClock, scriptedApprover } from '../../src/testing/index.ts';

// The decide step judges the whole decision before anything is consumed or anyone is asked: a
// decision the guard cannot enforce (an unknown obligation, a malformed approval requirement) and
// an ask nobody can answer deny there, so no rate hit, grant use or human's time is spent on them,
// and `check()` says the same as the call.

const LIMIT = [{ rule: 'limited', limits: { rate: '1/1m' } }] as const;

/** An engine whose decision is `decide(args.kind)`. */
function byKind(decide: (kind: unknown) => object): PolicyEngine {
  return { name: 'by-kind', evaluate: (request: ToolRequest) => decide(request.args.kind) as Decision };
}

/** An engine whose decision depends on `args.kind`: `'bad'` carries `broken`, anything else is clean. */
function engine(type: 'allow' | 'ask', broken: Record<string, unknown>): PolicyEngine {
  const base = { type, rules: ['limited'], limits: LIMIT, reason: 'checked' };
  return byKind((kind) => (kind === 'bad' ? { ...base, ...broken } : base));
}

function setup(policy: PolicyEngine, options: Partial<GuardOptions<'return'>> = {}) {
  const audit = memoryAudit();
  const clock = fakeClock();
  const tg = createGuard({ policy, audit, now: clock.now, onDeny: 'return', ...options });
  let ran = 0;
  const tool = tg.guard(() => ++ran, { name: 'search' });
  return { tg, audit, tool, ran: () => ran };
}

const UNSUPPORTED = { obligations: { watermark: true } };
const MALFORMED_APPROVAL = { approval: { quorum: 0 } };

describe('decide: a decision the guard cannot enforce denies before limits or approval', () => {
  it.each([
    ['allow', 'an unsupported obligation', UNSUPPORTED],
    ['allow', 'a malformed output cap', { obligations: { maxRows: -1 } }],
    ['allow', 'a malformed timeout', { obligations: { timeout: 'soon' } }],
    ['ask', 'an unsupported obligation', UNSUPPORTED],
    ['ask', 'a malformed approval requirement', MALFORMED_APPROVAL],
  ] as const)('an %s carrying %s uses up no rate-limit hit', async (type, _what, broken) => {
    const approver = scriptedApprover(['approve']);
    const { tg, tool, ran } = setup(engine(type, broken), { approver });
    expect(await tg.check('search', { kind: 'bad' })).toMatchObject({ type: 'deny', code: 'POLICY_ERROR' });
    expect(await tool({ kind: 'bad' })).toMatchObject({ denied: true, code: 'POLICY_ERROR' });
    // The rate limit of 1 a minute is still unused: the clean call runs.
    expect(await tool({ kind: 'good' })).toBe(1);
    expect(ran()).toBe(1);
    await tg.close();
  });

  it('an ask carrying an unsupported obligation never reaches the approver', async () => {
    const approver = scriptedApprover(['approve']);
    const { tg, audit, tool, ran } = setup(engine('ask', UNSUPPORTED), { approver });
    expect(await tool({ kind: 'bad' })).toMatchObject({ denied: true, code: 'POLICY_ERROR' });
    expect(approver.requests).toHaveLength(0);
    expect(audit.events.map((event) => event.type)).toEqual(['decision']);
    expect(audit.events[0]).toMatchObject({ decision: 'deny', policyDecision: 'ask', code: 'POLICY_ERROR' });
    expect(ran()).toBe(0);
    await tg.close();
  });

  it('a grant in scope is not used up by an ask the guard cannot enforce', async () => {
    const { tg, audit, tool, ran } = setup(engine('ask', UNSUPPORTED));
    await tg.grants.issue({ tool: 'search', maxUses: 1, for: '1h' });
    expect(await tool({ kind: 'bad' })).toMatchObject({ denied: true, code: 'POLICY_ERROR' });
    expect(await tool({ kind: 'good' })).toBe(1);
    expect(audit.events.filter((event) => event.type === 'grant-used')).toHaveLength(1);
    expect(ran()).toBe(1);
    await tg.close();
  });

  it('an ask with no approver configured denies NO_APPROVER before the limits, and check() says so', async () => {
    const policy = byKind((kind) => ({
      type: kind === 'ask' ? 'ask' : 'allow',
      rules: ['limited'],
      limits: LIMIT,
      reason: 'checked',
    }));
    const { tg, tool, ran } = setup(policy);
    expect(await tg.check('search', { kind: 'ask' })).toMatchObject({ type: 'deny', code: 'NO_APPROVER' });
    expect(await tool({ kind: 'ask' })).toMatchObject({ denied: true, code: 'NO_APPROVER' });
    expect(await tool({ kind: 'allow' })).toBe(1);
    expect(ran()).toBe(1);
    await tg.close();
  });

  it('edited arguments that the engine re-decides into an unenforceable allow deny (POLICY_ERROR)', async () => {
    const policy = byKind((kind) =>
      kind === 'edited'
        ? { type: 'allow', rules: ['edited'], obligations: { watermark: true } }
        : { type: 'ask', rules: ['k'], reason: 'check' },
    );
    const approver = autoApprove({ approver: 'alice' });
    const edit: typeof approver = {
      name: 'editor',
      request: async (request, options) => ({
        ...(await approver.request(request, options)),
        args: { kind: 'edited' },
      }),
    };
    const { tg, tool, ran } = setup(policy, { approver: edit });
    expect(await tool({ kind: 'asked' })).toMatchObject({ denied: true, code: 'POLICY_ERROR' });
    expect(ran()).toBe(0);
    await tg.close();
  });
});

describe('the policy version a call is recorded under', () => {
  const allow = { type: 'allow', rules: ['r'] } as Decision;
  it('an engine whose version getter throws, or whose version is no string, denies POLICY_ERROR', async () => {
    const throwing: PolicyEngine = {
      name: 'odd',
      evaluate: () => allow,
      get version(): string {
        throw new Error('version store down');
      },
    };
    const numbered = { name: 'odd', evaluate: () => allow, version: 7 } as unknown as PolicyEngine;
    for (const [policy, said] of [
      [throwing, /policy engine odd could not give its version: Error: version store down/],
      [numbered, /policy engine odd gave a version that is no string \(number\)/],
    ] as const) {
      const { tg, audit, tool, ran } = setup(policy);
      await expect(tool({})).resolves.toMatchObject({
        code: 'POLICY_ERROR',
        reason: expect.stringMatching(said),
      });
      await expect(tg.check('search', {})).resolves.toMatchObject({ code: 'POLICY_ERROR' });
      expect(ran()).toBe(0);
      expect(audit.events).toMatchObject([{ type: 'decision', decision: 'deny', code: 'POLICY_ERROR' }]);
    }
  });

  it('a nameless engine is named as such in reasons', async () => {
    const { tool } = setup({
      evaluate: () => {
        throw new Error('boom');
      },
    } as unknown as PolicyEngine);
    await expect(tool({})).resolves.toMatchObject({ reason: 'the policy engine failed: Error: boom' });
  });
});
