import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_ID_LENGTH } from '../../src/_internal/host-functions.ts';
import type { AuditEvent, DecisionEvent } from '../../src/audit/types.ts';
import { ConfigurationError, ToolDeniedError } from '../../src/errors.ts';
import type { GuardErrorEvent, GuardWarningEvent } from '../../src/events.ts';
import { createGuard, jsonlAudit, memoryAudit, rules, verifyAuditLog } from '../../src/index.ts';
import { spyTool } from './helpers.ts';

// The host's clock (`now`) and id generator (`generateId`) are checked at every answer: a fault
// denies the call it happens in (POLICY_ERROR), recorded with a real time and id, and is reported
// (src/_internal/host-functions.ts).

const policy = rules([{ id: 'open', effect: 'allow', tool: 't' }]);
const ID = /^[A-Za-z0-9_-]{21}$/;

function harness(options: { now?: () => number; generateId?: () => string }) {
  const audit = memoryAudit();
  const tg = createGuard({ policy, audit, ...options });
  const errors: GuardErrorEvent[] = [];
  const warnings: GuardWarningEvent[] = [];
  tg.on('error', (event) => errors.push(event));
  tg.on('warning', (event) => warnings.push(event));
  const tool = spyTool();
  const guarded = tg.guard(tool.fn, { name: 't' });
  return { tg, audit, errors, warnings, tool, guarded };
}

const badClocks: [string, () => unknown, RegExp][] = [
  [
    'throws',
    () => {
      throw new Error('clock down');
    },
    /options\.now threw/,
  ],
  ['answers NaN', () => Number.NaN, /options\.now answered NaN/],
  ['answers Infinity', () => Number.POSITIVE_INFINITY, /options\.now answered Infinity/],
  ['answers a string', () => '1800000000000', /answered a string of 13 characters/],
  ['answers undefined', () => undefined, /answered undefined/],
  ['answers a Date', () => new Date(), /answered a object/],
  ['answers a bigint', () => 1800000000000n, /answered a bigint/],
];

describe('a host clock that fails', () => {
  it.each(badClocks)(
    '%s: the call is denied POLICY_ERROR, recorded with the system time, and reported',
    async (_, clock, said) => {
      const { audit, errors, warnings, tool, guarded } = harness({ now: clock as () => number });
      const before = Date.now();
      const error = await guarded({}).catch((e: unknown) => e);
      expect(ToolDeniedError.isInstance(error)).toBe(true);
      expect((error as ToolDeniedError).code).toBe('POLICY_ERROR');
      expect((error as ToolDeniedError).reason).toMatch(said);
      // What the clock threw goes to the host, not into the reason the model reads.
      expect((error as ToolDeniedError).reason).not.toContain('clock down');
      expect(tool.calls).toHaveLength(0);
      const [decision, ...rest] = audit.events as DecisionEvent[];
      expect(rest).toEqual([]);
      expect(decision).toMatchObject({ type: 'decision', decision: 'deny', code: 'POLICY_ERROR' });
      expect(Number.isFinite(decision!.ts)).toBe(true);
      expect(decision!.ts).toBeGreaterThanOrEqual(before);
      expect(decision!.ts).toBeLessThanOrEqual(Date.now());
      expect(errors.length).toBeGreaterThan(0);
      expect(errors[0]!.source).toBe('now');
      expect(ConfigurationError.isInstance(errors[0]!.error)).toBe(true);
      expect((errors[0]!.error as Error).message).toMatch(said);
      expect(warnings.map((w) => w.code)).toEqual(['CLOCK_FAULT']);
    },
  );

  it('says what it threw in the error event, not in the denial', async () => {
    const { errors, guarded } = harness({
      now: () => {
        throw new Error('ntp socket closed');
      },
    });
    const error = (await guarded({}).catch((e: unknown) => e)) as ToolDeniedError;
    expect(error.reason).not.toContain('ntp socket');
    expect((errors[0]!.error as Error).message).toContain('ntp socket closed');
    expect((errors[0]!.error as Error & { cause?: unknown }).cause).toBeInstanceOf(Error);
  });

  it('denies only the calls it fails in: the next call with a good answer is decided as usual', async () => {
    let broken = true;
    const { audit, tool, guarded } = harness({ now: () => (broken ? Number.NaN : 1_800_000_000_000) });
    await expect(guarded({})).rejects.toMatchObject({ code: 'POLICY_ERROR' });
    broken = false;
    await expect(guarded({})).resolves.toBe('ok');
    expect(tool.calls).toHaveLength(1);
    expect(audit.events.map((e) => [e.type, e.ts])).toEqual([
      ['decision', expect.any(Number)],
      ['decision', 1_800_000_000_000],
      ['result', 1_800_000_000_000],
    ]);
  });

  it('denies a dry run (tg.check) the same way', async () => {
    const { tg } = harness({ now: () => Number.NaN });
    await expect(tg.check('t', {})).resolves.toMatchObject({ type: 'deny', code: 'POLICY_ERROR' });
  });

  it('after the decision (a result record) takes the system time and reports it; the call stands', async () => {
    let reads = 0;
    // Good for the call's first reads (the request's time, the decision record), then broken.
    const { audit, errors, guarded } = harness({
      now: () => (++reads <= 2 ? 1_800_000_000_000 : Number.NaN),
    });
    await expect(guarded({})).resolves.toBe('ok');
    const result = audit.events.find((e) => e.type === 'result')!;
    expect(Number.isFinite(result.ts)).toBe(true);
    expect(result.ts).not.toBe(1_800_000_000_000);
    expect(errors.map((e) => e.source)).toEqual(['now']);
  });

  it('a finite answer is taken as it is, even a negative one (before 1970)', async () => {
    const { audit, guarded } = harness({ now: () => -5 });
    await expect(guarded({})).resolves.toBe('ok');
    expect(audit.events.map((e) => e.ts)).toEqual([-5, -5]);
  });

  describe('with a JSONL audit', () => {
    let dir: string | undefined;
    afterEach(() => {
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
      dir = undefined;
    });

    it('the denial is written with a real time (no gap), and the chain verifies', async () => {
      dir = mkdtempSync(join(tmpdir(), 'toolgate-host-clock-'));
      const path = join(dir, 'audit.jsonl');
      const tg = createGuard({
        policy,
        audit: jsonlAudit({ path, flushOnExit: false }),
        now: () => Number.NaN,
      });
      tg.on('error', () => {});
      const tool = spyTool();
      await expect(tg.guard(tool.fn, { name: 't' })({})).rejects.toMatchObject({ code: 'POLICY_ERROR' });
      await tg.close();
      expect(tool.calls).toHaveLength(0);
      expect(await verifyAuditLog(path)).toMatchObject({ ok: true, events: 1 });
    });
  });
});

const badIds: [string, () => unknown, RegExp][] = [
  [
    'throws',
    () => {
      throw new Error('id service down');
    },
    /options\.generateId threw/,
  ],
  ['answers a number', () => 42, /answered 42/],
  ['answers an empty string', () => '', /answered an empty string/],
  [
    'answers a string that is too long',
    () => 'x'.repeat(MAX_ID_LENGTH + 1),
    /answered a string of 257 characters/,
  ],
  ['answers null', () => null, /answered null/],
];

describe('a host id generator that fails', () => {
  it.each(badIds)(
    '%s: the call is denied POLICY_ERROR, recorded under a toolgate id, and reported',
    async (_, generate, said) => {
      const { audit, errors, warnings, tool, guarded } = harness({ generateId: generate as () => string });
      const error = (await guarded({}).catch((e: unknown) => e)) as ToolDeniedError;
      expect(error.code).toBe('POLICY_ERROR');
      expect(error.reason).toMatch(said);
      expect(error.callId).toMatch(ID);
      expect(tool.calls).toHaveLength(0);
      const events = audit.events as AuditEvent[];
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        type: 'decision',
        decision: 'deny',
        code: 'POLICY_ERROR',
        callId: error.callId,
      });
      expect(errors[0]!.source).toBe('generateId');
      expect(warnings.map((w) => w.code)).toEqual(['ID_GENERATOR_FAULT']);
    },
  );

  it('takes any string of 1 to 256 characters as it is', async () => {
    let n = 0;
    const ids = ['a', 'y'.repeat(MAX_ID_LENGTH)];
    const { audit, guarded } = harness({ generateId: () => ids[n++ % 2]! });
    await expect(guarded({})).resolves.toBe('ok');
    await expect(guarded({})).resolves.toBe('ok');
    expect(audit.events.map((e) => e.callId)).toEqual(['a', 'a', ids[1], ids[1]]);
  });
});
