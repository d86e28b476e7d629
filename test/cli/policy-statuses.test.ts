import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, expectTypeOf, test } from 'vitest';
import { run } from '../../src/cli/policy.ts';
import { EXPLAIN_STATUSES, type ExplainStatus } from '../../src/cli/policy-explain.ts';
import { captureConsole } from '../audit/helpers.ts';
import { policyFile } from './policy-files.ts';

const ROOT = join(import.meta.dirname, '..', '..');

/** A policy with one rule for each status `explain` can print for a call to `pay.send` at noon UTC. */
const EVERY_STATUS = {
  rules: [
    { id: 'a-applies', effect: 'allow', tool: 'pay.send' },
    { id: 'b-other-tool', effect: 'allow', tool: 'db.read' },
    { id: 'c-other-agent', effect: 'allow', tool: 'pay.send', agent: 'someone-else' },
    { id: 'd-expired', effect: 'allow', tool: 'pay.send', expires: '2020-01-01T00:00:00Z' },
    { id: 'e-night-only', effect: 'allow', tool: 'pay.send', schedule: { hours: '00:00-06:00', tz: 'UTC' } },
    { id: 'f-not-at-noon', effect: 'allow', tool: 'pay.send', outside: { hours: '11:00-13:00', tz: 'UTC' } },
    { id: 'g-false', effect: 'allow', tool: 'pay.send', when: { 'args.amount': { lt: 10 } } },
    { id: 'h-missing', effect: 'allow', tool: 'pay.send', when: { 'args.currency': { eq: 'EUR' } } },
  ],
};

async function explainJson(file: string): Promise<{ rule: string; status: string }[]> {
  const io = captureConsole();
  const code = await run([
    'explain',
    file,
    '--tool',
    'pay.send',
    '--args',
    '{"amount": 50}',
    '--context',
    '{"agent": "bot"}',
    '--now',
    '2026-03-02T12:00:00Z',
    '--json',
  ]);
  expect(code).toBe(0);
  return JSON.parse(io.out[0]!).trace;
}

describe('toolgate policy explain statuses: one documented set', () => {
  test('the set is exactly the engine’s statuses plus error', () => {
    expectTypeOf<keyof typeof EXPLAIN_STATUSES>().toEqualTypeOf<ExplainStatus>();
  });

  test('the code prints each status of the set, and only those', async () => {
    const trace = await explainJson(policyFile('every-status.json', EVERY_STATUS));
    const printed = new Set(trace.map((entry) => entry.status));
    // `error` needs a rule whose evaluation throws, which the built-in conditions never do.
    expect([...printed].sort()).toEqual(
      Object.keys(EXPLAIN_STATUSES)
        .filter((s) => s !== 'error')
        .sort(),
    );
    expect(Object.fromEntries(trace.map((entry) => [entry.rule, entry.status]))).toEqual({
      'a-applies': 'applies',
      'b-other-tool': 'tool-mismatch',
      'c-other-agent': 'target-mismatch',
      'd-expired': 'expired',
      'e-night-only': 'outside-schedule',
      'f-not-at-noon': 'inside-outside-window',
      'g-false': 'condition-false',
      'h-missing': 'condition-indeterminate',
    });
  });

  test('docs/policies.md lists exactly these statuses, with the same meanings', () => {
    const docs = readFileSync(join(ROOT, 'docs', 'policies.md'), 'utf8');
    const table = /<!-- explain-statuses[^>]*-->([\s\S]*?)<!-- \/explain-statuses -->/.exec(docs)?.[1];
    expect(table).toBeDefined();
    const rows = [...table!.matchAll(/^\s*\| `([a-z-]+)` \| (.+) \|\s*$/gm)].map((match) => [
      match[1],
      match[2],
    ]);
    expect(rows).toEqual(Object.entries(EXPLAIN_STATUSES));
  });
});
