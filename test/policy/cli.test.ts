import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test, vi } from 'vitest';
import { run } from '../../src/cli/policy.ts';
import { globCovers } from '../../src/policy/lint.ts';

const dir = mkdtempSync(join(tmpdir(), 'toolgate-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

async function capture(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...args) => void out.push(args.join(' ')));
  const error = vi.spyOn(console, 'error').mockImplementation((...args) => void err.push(args.join(' ')));
  try {
    const code = await run(argv);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

const policy = file(
  'policy.yaml',
  `rules:
  - id: read
    effect: allow
    tool: db.read
  - id: refund-small
    effect: allow
    tool: payments.refund
    when:
      args.amount: { lte: 100 }
  - id: drop-anything
    effect: allow
    tool: db.drop*
  - id: no-drops
    effect: deny
    tool: db.drop*
  - id: old
    effect: allow
    tool: legacy.tool
    expires: 2020-01-01T00:00:00Z
  - id: read-again
    effect: allow
    tool: db.read
  - id: sql
    effect: allow
    tool: db.query
    when:
      args.sql: { sqlScope: { dialect: postgresql, tables: [orders], maxRows: 50 } }
`,
);

describe('toolgate policy check', () => {
  test('valid file with lint warnings: shadowed and expired rules', async () => {
    const result = await capture(['check', policy]);
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/7 rules/);
    expect(result.out).toMatch(/rule read-again: duplicate of rule read/);
    expect(result.out).toMatch(
      /rule drop-anything: unreachable: shadowed by the unconditional deny rule no-drops/,
    );
    expect(result.out).toMatch(/rule old: expired/);
    expect((await capture(['check', policy, '--strict'])).code).toBe(1);
  });
  test('an invalid file fails naming the rule and field', async () => {
    const bad = file('bad.json', {
      rules: [{ id: 'x', effect: 'allow', when: { 'args.a': { greaterThan: 1 } } }],
    });
    const result = await capture(['check', bad]);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/rule "x": when.args.a.greaterThan: unknown operator/);
    const json = await capture(['check', bad, '--json']);
    expect(JSON.parse(json.out)).toMatchObject({ ok: false });
  });
  test('usage errors exit 2', async () => {
    expect((await capture(['check'])).code).toBe(2);
    expect((await capture(['frobnicate'])).code).toBe(2);
  });
});

describe('toolgate policy explain', () => {
  test('shows the decision, deciding rules and the status of each candidate', async () => {
    const result = await capture([
      'explain',
      policy,
      '--tool',
      'payments.refund',
      '--args',
      '{"amount": 500}',
    ]);
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/decision: deny \(NO_MATCHING_RULE\)/);
    expect(result.out).toMatch(/refund-small \(allow\): condition-false/);
    const sql = await capture([
      'explain',
      policy,
      '--tool',
      'db.query',
      '--args',
      '{"sql": "SELECT id FROM orders"}',
      '--json',
    ]);
    expect(JSON.parse(sql.out).decision).toMatchObject({
      type: 'allow',
      rules: ['sql'],
      obligations: { maxRows: 50 },
    });
  });
  test('bad JSON in --args is a usage error', async () => {
    expect((await capture(['explain', policy, '--tool', 't', '--args', '{nope'])).code).toBe(2);
  });
});

describe('toolgate policy coverage', () => {
  test('lists tools no allow or ask rule covers', async () => {
    const result = await capture(['coverage', policy, '--tools', 'db.read,payments.refund,shell.exec']);
    expect(result.code).toBe(1);
    expect(result.out).toMatch(/✗ shell.exec/);
    expect(result.out).toMatch(/2 of 3 tools covered/);
    const manifest = file('tools.json', { tools: [{ name: 'db.read' }, { name: 'db.query' }] });
    expect((await capture(['coverage', policy, '--tools', manifest])).code).toBe(0);
  });
});

test('globCovers is conservative', () => {
  expect(globCovers('*', 'anything*')).toBe(true);
  expect(globCovers('db.*', 'db.drop*')).toBe(true);
  expect(globCovers('db.drop*', 'db.*')).toBe(false);
  expect(globCovers('*.delete', 'x.*.delete')).toBe(true);
  expect(globCovers('*.delete', 'x.delete*')).toBe(false);
  expect(globCovers('db.*', 'db.read')).toBe(true);
});
