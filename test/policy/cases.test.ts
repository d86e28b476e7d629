import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, test, vi } from 'vitest';
import { run } from '../../src/cli/policy.ts';
import { compileDocument } from '../../src/policy/load.ts';
import { rules } from '../../src/policy/rules.ts';
import { parseInstant } from '../../src/policy/schedule.ts';
import { testPolicyEngine } from '../../src/testing/index.ts';
import type { Decision, JsonObject, ToolContext } from '../../src/types.ts';
import { request } from './helpers.ts';

const runner = { describe, it };

interface CaseFile {
  policy: { rules: unknown[] };
  cases: {
    name: string;
    tool: string;
    args?: JsonObject;
    context?: ToolContext;
    now?: string;
    expect: { type: Decision['type']; code?: string; rules?: string[] };
  }[];
}

const dir = join(import.meta.dirname, '..', 'cases');
const files = readdirSync(dir).filter((file) => file.startsWith('policy-') && file.endsWith('.json'));
const tmp = mkdtempSync(join(tmpdir(), 'toolgate-cases-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe.each(files)('semantics cases %s', (file) => {
  const data = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CaseFile;
  const engine = compileDocument(data.policy, file);
  test.each(data.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const now = c.now === undefined ? Date.UTC(2026, 0, 5, 12) : parseInstant(c.now, 'now');
    const decision = engine.evaluate(request(c.tool, c.args ?? {}, c.context ?? {}, now), {
      signal: new AbortController().signal,
    }) as Decision;
    expect(decision.type).toBe(c.expect.type);
    if (c.expect.code !== undefined) expect(decision).toMatchObject({ code: c.expect.code });
    if (c.expect.rules !== undefined) expect(decision.rules).toEqual(c.expect.rules);
    expect(decision.policyVersion).toBe(engine.version);
  });

  test('the same cases pass through `toolgate policy test`', async () => {
    const policyFile = join(tmp, `${file}.policy.json`);
    const casesFile = join(tmp, `${file}.cases.json`);
    writeFileSync(policyFile, JSON.stringify(data.policy));
    writeFileSync(
      casesFile,
      JSON.stringify(data.cases.map((c) => ({ ...c, now: c.now ?? '2026-01-05T12:00:00Z' }))),
    );
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      expect(await run(['test', policyFile, casesFile])).toBe(0);
      // One wrong expectation makes the command fail.
      const broken = data.cases.map((c, i) => (i === 0 ? { ...c, expect: { type: 'allow' } } : c));
      writeFileSync(casesFile, JSON.stringify(broken));
      expect(await run(['test', policyFile, casesFile])).toBe(1);
    } finally {
      log.mockRestore();
    }
  });
});

testPolicyEngine('rules', { runner, create: (list) => rules(list) });
