import { describe, expect, it } from 'vitest';
import { denialMessage } from '../../src/adapters/_shared/denials.ts';
import { memoryAudit } from '../../src/audit/memory.ts';
import type { DecisionEvent } from '../../src/audit/types.ts';
import { ConfigurationError, ToolDeniedError } from '../../src/errors.ts';
import { createGuard } from '../../src/guard.ts';
import { rules } from '../../src/policy/rules.ts';
import type { ToolDenial } from '../../src/types.ts';

// Denials name the rule and the condition (DESIGN §4): the error, the returned denial, the
// decision record and the `decision` event carry `rule` and `failed`, redacted; what the model
// reads follows `denialDetail`.

const policy = rules([
  { id: 'support-only', effect: 'allow', tool: 'db.query', agent: 'support-*' },
  { id: 'login', effect: 'allow', tool: 'login', when: { 'args.password': { eq: 'open sesame' } } },
  { id: 'office-hours', effect: 'deny', tool: 'payments.*' },
]);

describe('a denial names the rule and the failed condition', () => {
  it('in the error: fields and message', async () => {
    const tg = createGuard({ policy });
    const query = tg.guard(() => 'rows', { name: 'db.query' });
    const error = await query({}).catch((e: unknown) => e);
    expect(ToolDeniedError.isInstance(error)).toBe(true);
    const denied = error as ToolDeniedError;
    expect(denied.code).toBe('NO_MATCHING_RULE');
    expect(denied.rule).toBe('support-only');
    expect(denied.failed).toEqual([
      { rule: 'support-only', path: 'context.agent', expected: 'one of support-*' },
    ]);
    expect(denied.message).toContain('support-only: context.agent is missing, expected one of support-*');
  });

  it('a deny rule without reason names its condition, not only the rule', async () => {
    const tg = createGuard({ policy });
    const error = (await tg
      .guard(() => 1, { name: 'payments.refund' })({})
      .catch((e: unknown) => e)) as ToolDeniedError;
    expect(error.reason).toBe('rule office-hours');
    expect(error.rule).toBe('office-hours');
    expect(error.message).toMatch(
      /office-hours: tool\.name is "payments\.refund", expected not one of payments\.\*/,
    );
  });

  it('in the returned denial', async () => {
    const tg = createGuard({ policy, onDeny: 'return' });
    const denial = (await tg.guard(() => 'rows', { name: 'db.query' })(
      {},
      { context: { agent: 'sales-bot' } },
    )) as ToolDenial;
    expect(denial).toMatchObject({
      denied: true,
      code: 'NO_MATCHING_RULE',
      rule: 'support-only',
      failed: [
        { rule: 'support-only', path: 'context.agent', expected: 'one of support-*', actual: 'sales-bot' },
      ],
    });
  });

  it('in the decision record and the decision event, whatever denialDetail says', async () => {
    const audit = memoryAudit();
    const tg = createGuard({ policy, audit, denialDetail: 'code' });
    const seen: DecisionEvent[] = [];
    tg.on('decision', (event) => seen.push(event));
    await tg
      .guard(() => 1, { name: 'db.query' })({})
      .catch(() => undefined);
    const record = audit.events.find((e) => e.type === 'decision') as DecisionEvent;
    expect(record.rule).toBe('support-only');
    expect(record.failed).toEqual([
      { rule: 'support-only', path: 'context.agent', expected: 'one of support-*' },
    ]);
    expect(seen[0]?.failed).toEqual(record.failed);
  });

  it('allowed calls carry neither; a denial without conditions carries an empty list', async () => {
    const audit = memoryAudit();
    const tg = createGuard({ policy: rules([{ id: 'ok', effect: 'allow', tool: 'ok' }]), audit });
    await tg.guard(() => 1, { name: 'ok' })({});
    await tg
      .guard(() => 1, { name: 'unknown' })({})
      .catch(() => undefined);
    const [allowed, denied] = audit.events.filter((e) => e.type === 'decision') as DecisionEvent[];
    expect(allowed).not.toHaveProperty('failed');
    expect(allowed).not.toHaveProperty('rule');
    expect(denied?.failed).toEqual([]);
    expect(denied).not.toHaveProperty('rule');
  });

  it('redacted like the args: a secret-named path never shows its value', async () => {
    const audit = memoryAudit();
    const tg = createGuard({ policy, audit, onDeny: 'return' });
    const denial = (await tg.guard(() => 1, { name: 'login' })({ password: 'hunter2-secret' })) as ToolDenial;
    expect(denial.failed[0]).toMatchObject({ path: 'args.password', actual: '[REDACTED]' });
    const record = audit.events.find((e) => e.type === 'decision') as DecisionEvent;
    expect(record.failed?.[0]).toMatchObject({ path: 'args.password', actual: '[REDACTED]' });
    expect(JSON.stringify(audit.events)).not.toContain('hunter2-secret');
    const error = (await createGuard({ policy })
      .guard(() => 1, { name: 'login' })({ password: 'hunter2-secret' })
      .catch((e: unknown) => e)) as ToolDeniedError;
    expect(error.message).not.toContain('hunter2-secret');
    expect(JSON.stringify(error.failed)).not.toContain('hunter2-secret');
  });

  it('redaction paths reach failed conditions too', async () => {
    const tg = createGuard({
      policy: rules([{ id: 'r', effect: 'allow', tool: 't', when: { 'args.note': { eq: 'x' } } }]),
      audit: { sinks: [memoryAudit()], redact: { paths: ['args.note'] } },
      onDeny: 'return',
    });
    const denial = (await tg.guard(() => 1, { name: 't' })({ note: 'private words' })) as ToolDenial;
    expect(denial.failed[0]?.actual).toBe('[REDACTED]');
  });

  it('check() answers with the failed conditions', async () => {
    const tg = createGuard({ policy });
    tg.guard(() => 1, { name: 'db.query' });
    const decision = await tg.check('db.query', {}, { agent: 'x' });
    expect(decision).toMatchObject({
      type: 'deny',
      failed: [{ rule: 'support-only', path: 'context.agent', actual: 'x' }],
    });
  });
});

describe('denialDetail', () => {
  it("defaults to 'reason'; an unknown value is a ConfigurationError at construction", () => {
    expect(createGuard({ policy }).denialDetail).toBe('reason');
    expect(createGuard({ policy, denialDetail: 'full' }).denialDetail).toBe('full');
    expect(() => createGuard({ policy, denialDetail: 'all' as never })).toThrow(ConfigurationError);
    expect(() => createGuard({ policy, denialDetail: 'all' as never })).toThrow(/denialDetail/);
  });

  it('decides how much of a denial the model reads', () => {
    const denial = {
      tool: 'db.query',
      code: 'NO_MATCHING_RULE' as const,
      reason: 'no rule allows this call',
      rule: 'support-only',
      failed: [{ rule: 'support-only', path: 'context.agent', expected: 'one of support-*' }],
    };
    expect(denialMessage(denial, 'code')).toBe('toolgate denied db.query (NO_MATCHING_RULE)');
    expect(denialMessage(denial, 'reason')).toBe(
      'toolgate denied db.query (NO_MATCHING_RULE): no rule allows this call',
    );
    expect(denialMessage(denial, 'full')).toBe(
      'toolgate denied db.query (NO_MATCHING_RULE): no rule allows this call [support-only: context.agent is missing, expected one of support-*]',
    );
    expect(denialMessage({ ...denial, failed: [] }, 'full')).toMatch(/\[rule support-only\]$/);
  });
});
