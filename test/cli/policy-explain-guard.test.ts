import { afterEach, describe, expect, it, vi } from 'vitest';
import { run } from '../../src/cli/policy.ts';
import { createGuard, type JsonObject, loadPolicy } from '../../src/index.ts';
import { captureConsole } from '../audit/helpers.ts';
import { policyFile } from './policy-files.ts';

// `toolgate policy explain` and `policy test` decide a call as the guard's check() does: a context
// or arguments the guard refuses before its policy runs are refused by them too (same effect,
// same code), never explained as an allow.

afterEach(() => {
  vi.restoreAllMocks();
});

const POLICY = {
  rules: [
    { id: 'read', effect: 'allow', tool: 'db.*' },
    { id: 'bots', effect: 'allow', tool: 'pay.*', agent: 'bot' },
    { id: 'big', effect: 'deny', tool: 'db.*', when: { 'args.amount': { gt: 100 } } },
  ],
};

function deep(depth: number): JsonObject {
  let value: JsonObject = { leaf: 1 };
  for (let i = 0; i < depth; i++) value = { next: value };
  return value;
}

const CALLS: [string, string, JsonObject, Record<string, unknown> | undefined][] = [
  ['a plain call', 'db.read', { amount: 5 }, undefined],
  ['an unknown context field', 'db.read', { amount: 5 }, { foo: 1 }],
  ['an agent that is a number', 'db.read', { amount: 5 }, { agent: 5 }],
  ['an agent with a zero-width space', 'db.read', { amount: 5 }, { agent: 'bot\u200b' }],
  ['an agent with outer spaces', 'db.read', { amount: 5 }, { agent: ' bot' }],
  ['attributes that are a list', 'db.read', { amount: 5 }, { attributes: [1] }],
  ['an agent in NFD', 'pay.send', {}, { agent: 'bo\u0301t' }],
  ['args nested past the depth limit', 'db.read', deep(70), undefined],
  ['a denied call', 'db.read', { amount: 500 }, { agent: 'bot' }],
];

async function explain(file: string, tool: string, args: JsonObject, context?: unknown) {
  const io = captureConsole();
  try {
    const argv = ['explain', file, '--tool', tool, '--args', JSON.stringify(args), '--json'];
    if (context !== undefined) argv.push('--context', JSON.stringify(context));
    const exit = await run(argv);
    expect(exit, io.err.join('\n')).toBe(0);
    return (JSON.parse(io.out.join('\n')) as { decision: { type: string; code?: string } }).decision;
  } finally {
    vi.restoreAllMocks();
  }
}

describe('policy explain decides a call as the guard does', async () => {
  const file = policyFile('explain-guard.json', POLICY);
  const tg = createGuard({ policy: await loadPolicy(file) });
  tg.guard(async () => 'ok', { name: 'db.read' });
  tg.guard(async () => 'ok', { name: 'pay.send' });

  it.each(CALLS)('%s: same type and code', async (_name, tool, args, context) => {
    const guard = await tg.check(tool, args, context as never);
    const explained = await explain(file, tool, args, context);
    expect({ type: explained.type, code: explained.code }).toEqual({
      type: guard.type,
      code: guard.type === 'deny' ? guard.code : undefined,
    });
  });

  it('policy test reports the refusal too', async () => {
    const cases = policyFile(
      'explain-guard-cases.json',
      CALLS.map(([name, tool, args, context]) => ({ name, tool, args, context, expect: 'allow' })),
    );
    const io = captureConsole();
    await run(['test', file, cases, '--json']);
    const results = (JSON.parse(io.out.join('\n')) as { results: { name: string; decision?: string }[] })
      .results;
    vi.restoreAllMocks();
    for (const [name, tool, args, context] of CALLS) {
      const guard = await tg.check(tool, args, context as never);
      expect(results.find((result) => result.name === name)?.decision, name).toBe(guard.type);
    }
  });
});

describe('policy commands: switches take no value', () => {
  it.each([
    ['check', '--strict=false'],
    ['check', '--json=false'],
  ])('%s %s is a usage error', async (command, flag) => {
    const file = policyFile('switches.json', POLICY);
    const io = captureConsole();
    const exit = await run([command, file, flag]);
    vi.restoreAllMocks();
    expect(exit, io.err.join('\n')).toBe(2);
  });
});

describe('policy explain --now', () => {
  it('takes epoch ms as digits, and a time that does not parse is a usage error (exit 2)', async () => {
    const file = policyFile('now.json', {
      rules: [{ id: 'day', effect: 'allow', tool: 'x', schedule: { hours: '09:00-17:00' } }],
    });
    const at = async (now: string) => {
      const io = captureConsole();
      try {
        const exit = await run(['explain', file, '--tool', 'x', '--now', now, '--json']);
        return exit === 0
          ? (JSON.parse(io.out.join('\n')) as { decision: { type: string } }).decision.type
          : exit;
      } finally {
        vi.restoreAllMocks();
      }
    };
    expect(await at(String(Date.parse('2026-03-02T12:00:00Z')))).toBe('allow');
    expect(await at(String(Date.parse('2026-03-02T20:00:00Z')))).toBe('deny');
    expect(await at('2026-03-02T12:00:00Z')).toBe('allow');
    expect(await at('garbage')).toBe(2);
    expect(await at('2026-02-31T12:00:00Z')).toBe(2);
  });
});

describe('policy explain --risk / --tags: rules on tool.risk and tool.tags decide as in the guard', async () => {
  const RISKY = {
    rules: [
      { id: 'all', effect: 'allow', tool: '*' },
      { id: 'no-high', effect: 'deny', tool: '*', when: { 'tool.risk': { eq: 'high' } } },
      { id: 'untagged', effect: 'deny', tool: '*', when: { 'tool.tags': { exists: false } } },
      { id: 'prod', effect: 'deny', tool: '*', when: { 'tool.tags': { includes: 'prod' } } },
    ],
  };
  const file = policyFile('explain-risk.json', RISKY);
  const tg = createGuard({ policy: await loadPolicy(file) });
  const tools: [string, { risk?: string; tags?: string[] }][] = [
    ['t.low', { risk: 'low', tags: ['dev'] }],
    ['t.high', { risk: 'high', tags: ['dev'] }],
    ['t.prod', { risk: 'low', tags: ['prod', 'db'] }],
    ['t.bare', {}],
  ];
  for (const [name, info] of tools) tg.guard(async () => 'ok', { name, ...info });

  it.each(tools)('%s', async (name, info) => {
    const guard = await tg.check(name, {});
    const io = captureConsole();
    const argv = ['explain', file, '--tool', name, '--json'];
    if (info.risk !== undefined) argv.push('--risk', info.risk);
    if (info.tags !== undefined) argv.push('--tags', info.tags.join(','));
    const exit = await run(argv);
    vi.restoreAllMocks();
    expect(exit, io.err.join('\n')).toBe(0);
    const { decision } = JSON.parse(io.out.join('\n')) as { decision: { type: string; rules: string[] } };
    expect({ type: decision.type, rules: decision.rules }).toEqual({ type: guard.type, rules: guard.rules });
  });
});

describe('policy explain: arguments nested far too deeply', () => {
  it('are denied INVALID_ARGS as by the guard, not an unexpected error', async () => {
    const file = policyFile('deep-args.json', POLICY);
    const deepArgs = `{"a":${'['.repeat(60_000)}${']'.repeat(60_000)}}`;
    const io = captureConsole();
    const exit = await run(['explain', file, '--tool', 'db.read', '--args', deepArgs, '--json']);
    vi.restoreAllMocks();
    expect(exit, io.err.join('\n')).toBe(0);
    const { decision } = JSON.parse(io.out.join('\n')) as { decision: { type: string; code?: string } };
    expect(decision).toMatchObject({ type: 'deny', code: 'INVALID_ARGS' });
  });
});
