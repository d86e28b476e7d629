import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { ConfigurationError } from '../../src/errors.ts';
import { createGuard } from '../../src/guard.ts';
import { loadPolicy, type PolicyReloadInfo, parsePolicy } from '../../src/policy/load.ts';
import { request } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'toolgate-policy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const signal = new AbortController().signal;

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('policy documents', () => {
  test('JSON and YAML load to the same rules and version', async () => {
    const json = file(
      'p.json',
      JSON.stringify({
        version: 3,
        rules: [
          { id: 'read', effect: 'allow', tool: 'db.read' },
          {
            id: 'big',
            effect: 'ask',
            tool: 'payments.refund',
            when: { 'args.amount': { gt: 100 } },
            approval: { timeout: '10m' },
          },
        ],
      }),
    );
    const yaml = file(
      'p.yaml',
      `version: 3
rules:
  - id: read
    effect: allow
    tool: db.read
  - id: big
    effect: ask
    tool: payments.refund
    when:
      args.amount: { gt: 100 }
    approval: { timeout: 10m }
`,
    );
    const a = await loadPolicy(json);
    const b = await loadPolicy(yaml);
    expect(a.version).toBe(b.version);
    expect(a.evaluate(request('payments.refund', { amount: 500 }), { signal })).toMatchObject({
      type: 'ask',
      approval: { timeout: 600_000 },
      policyVersion: a.version,
    });
  });

  test.each([
    [
      '{"rules": [{"id": "a", "effect": "allow", "tool": "x", "__proto__": {"polluted": true}}]}',
      /__proto__/,
    ],
    ['{"rules": [{"id": "a", "effect": "allow", "when": {"args.x": {"constructor": 1}}}]}', /constructor/],
    ['{"rules": [], "extra": 1}', /unknown field "extra"/],
    ['{"rules": {}}', /rules must be a list/],
    ['[1]', /a policy document is an object/],
    [
      '{"rules": [{"id": "refund", "effect": "allow", "when": {"args.amount": {"lte": "100"}}}, {"id": "x", "effect": "nope"}]}',
      /rule "x": effect/,
    ],
    [
      '{"rules": [{"id": "refund", "effect": "allow", "when": {"args.amount": {"lessThan": 100}}}]}',
      /rule "refund": when.args.amount.lessThan: unknown operator/,
    ],
    ['{"rules": [{"id": "a", "effect": "allow"},', /not valid JSON/],
  ])('invalid: %s', (text, message) => {
    expect(() => parsePolicy(text)).toThrow(ConfigurationError);
    expect(() => parsePolicy(text)).toThrow(message);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  test('YAML prototype keys and anchors bombs are refused', async () => {
    const proto = file(
      'proto.yaml',
      'rules:\n  - id: a\n    effect: allow\n    __proto__: { polluted: true }\n',
    );
    await expect(loadPolicy(proto)).rejects.toThrow(/__proto__|unknown field/);
    const bomb = file(
      'bomb.yaml',
      `a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\nrules: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n`,
    );
    await expect(loadPolicy(bomb)).rejects.toThrow(ConfigurationError);
  });

  test('a missing file rejects with a ConfigurationError', async () => {
    await expect(loadPolicy(join(dir, 'missing.json'))).rejects.toThrow(/cannot be read/);
  });
});

describe('hot reload', () => {
  test('a valid change takes effect; an invalid one keeps the last valid version and emits policy-reload-failed', async () => {
    const path = file('live.json', JSON.stringify({ rules: [{ id: 'a', effect: 'allow', tool: 't' }] }));
    const policy = await loadPolicy(path, { watch: true });
    const tg = createGuard({ policy });
    const tool = tg.guard(() => 'ran', { name: 't' });
    expect(await tool({})).toBe('ran');
    const first = policy.version;

    const reloaded = new Promise<PolicyReloadInfo>((resolve) => policy.on('policy-reload', resolve));
    const tmp = join(dir, 'live.json.tmp');
    writeFileSync(tmp, JSON.stringify({ rules: [{ id: 'b', effect: 'deny', tool: 't' }] }));
    renameSync(tmp, path);
    const info = await reloaded;
    expect(info).toMatchObject({ ok: true, previousVersion: first, rules: 1 });
    expect(policy.version).toBe(info.policyVersion);
    await expect(tool({})).rejects.toMatchObject({ code: 'DENIED_BY_RULE' });
    const second = policy.version;

    const failed = new Promise<PolicyReloadInfo>((resolve) => policy.on('policy-reload-failed', resolve));
    writeFileSync(path, '{"rules": [{"id": "c", "effect": "allow", "tool": "t", "oops": 1}]}');
    const failure = await failed;
    expect(failure).toMatchObject({ ok: false, policyVersion: second });
    expect(failure.reason).toMatch(/rule "c": unknown field "oops"/);
    expect(policy.version).toBe(second);
    await expect(tool({})).rejects.toMatchObject({ code: 'DENIED_BY_RULE' });
    await tg.close();
    await policy.close();
  });

  test('reload() can be called by hand', async () => {
    const path = file('manual.json', JSON.stringify({ rules: [{ id: 'a', effect: 'allow', tool: 't' }] }));
    const policy = await loadPolicy(path);
    writeFileSync(path, JSON.stringify({ rules: [] }));
    expect(await policy.reload()).toBe(true);
    expect(policy.evaluate(request('t'), { signal })).toMatchObject({ code: 'NO_MATCHING_RULE' });
    writeFileSync(path, 'not json');
    expect(await policy.reload()).toBe(false);
    await policy.close();
  });
});

describe('a policy file says one thing', () => {
  // Before: JSON.parse kept the last of duplicate keys (a rule reading "deny" to a reviewer ran as
  // an allow), a `%YAML 1.1` directive read `lte: 0100` as 64, and an unknown tag passed as a string.
  test('JSON: a key twice in one object is refused, at any depth', () => {
    for (const text of [
      '{"rules":[{"id":"no-del","effect":"deny","tool":"db.delete","effect":"allow"}]}',
      '{"rules":[{"id":"a","effect":"deny","tool":"x"}],"rules":[]}',
      '{"rules":[{"id":"p","effect":"allow","tool":"pay","when":{"args.amount":{"lte":100,"lte":1e9}}}]}',
      '{"rules":[{"id":"e","effect":"allow","tool":"x","when":{"args.\\u0061":{"eq":1},"args.a":{"eq":2}}}]}',
    ])
      expect(() => parsePolicy(text), text).toThrow(/appears twice/);
    // The same key in two objects, or inside strings, is fine.
    const ok =
      '{"rules":[{"id":"a","effect":"allow","tool":"x","reason":"\\"effect\\": no"},{"id":"b","effect":"deny","tool":"y"}]}';
    expect(() => parsePolicy(ok)).not.toThrow();
  });

  test('YAML: directives and tags the parser would have to guess at are refused', async () => {
    const { parse } = await import('yaml');
    const rule =
      'rules:\n  - id: p\n    effect: allow\n    tool: pay\n    when:\n      args.amount: { lte: 0100 }\n';
    expect(() => parsePolicy(`%YAML 1.1\n---\n${rule}`, { format: 'yaml' }, parse)).toThrow(/directives/);
    for (const [name, text] of [
      ['directive', `%YAML 1.1\n---\n${rule}`],
      ['unknown tag', 'rules:\n  - id: p\n    effect: allow\n    tool: !foo pay\n'],
    ] as const) {
      const file = join(dir, `tagged-${name.replace(' ', '-')}.yaml`);
      writeFileSync(file, text);
      await expect(loadPolicy(file), name).rejects.toThrow(ConfigurationError);
    }
    // YAML 1.2 reads 0100 as 100, as before.
    const file = join(dir, 'plain.yaml');
    writeFileSync(file, rule);
    const engine = await loadPolicy(file);
    expect(
      engine.evaluate(request('pay', { amount: 90 }), { signal: new AbortController().signal }),
    ).toMatchObject({ type: 'allow' });
  });
});
