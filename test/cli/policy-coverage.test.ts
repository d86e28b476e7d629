import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { run } from '../../src/cli/policy.ts';
import { rules as rulesEngine } from '../../src/index.ts';
import { lint } from '../../src/policy/lint.ts';
import { rulesOf } from '../../src/policy/rules.ts';
import { captureConsole } from '../audit/helpers.ts';
import { policyFile } from './policy-files.ts';

async function cli(argv: string[]) {
  const io = captureConsole();
  try {
    const code = await run(argv);
    return { code, out: io.out.join('\n'), err: io.err.join('\n') };
  } finally {
    const { vi } = await import('vitest');
    vi.restoreAllMocks();
  }
}

/** What @modelcontextprotocol/server-filesystem lists, as a tools/list result (unprefixed names). */
const FILESYSTEM_TOOLS = {
  tools: ['read_file', 'read_multiple_files', 'write_file', 'edit_file', 'list_directory', 'delete_file'].map(
    (name) => ({ name, inputSchema: { type: 'object' } }),
  ),
};
const FILES_POLICY = {
  rules: [
    { id: 'reads', effect: 'allow', tool: 'files.read_*' },
    { id: 'listing', effect: 'allow', tool: 'files.list_directory' },
    { id: 'writes', effect: 'ask', tool: 'files.*', reason: 'writes need a human' },
    { id: 'no-deletes', effect: 'deny', tool: 'files.delete_*' },
  ],
};

describe('toolgate policy coverage', () => {
  test('--server reads a tools/list result as the proxy names its tools', async () => {
    const policy = policyFile('files.json', FILES_POLICY);
    const manifest = policyFile('tools-list.json', FILESYSTEM_TOOLS);
    // Without the server name nothing matches: the policy speaks of files.*.
    const bare = await cli(['coverage', policy, '--tools', manifest]);
    expect(bare.out).toMatch(/0 of 6 tools covered/);
    const result = await cli(['coverage', policy, '--tools', manifest, '--server', 'files', '--json']);
    expect(result.code).toBe(1);
    const report = JSON.parse(result.out);
    expect(report.uncovered).toEqual(['files.delete_file']);
    expect(report.tools.find((entry: { tool: string }) => entry.tool === 'files.read_file')).toEqual({
      tool: 'files.read_file',
      covered: true,
      rules: ['reads', 'writes'],
    });
    // The whole JSON-RPC response works too.
    const response = policyFile('response.json', { jsonrpc: '2.0', id: 1, result: FILESYSTEM_TOOLS });
    expect((await cli(['coverage', policy, '--tools', response, '--server', 'files'])).out).toMatch(
      /5 of 6 tools covered/,
    );
  });

  test('a rule policy check reports unreachable never covers a tool', async () => {
    const policy = policyFile('shadowed.json', {
      rules: [
        { id: 'all-db', effect: 'allow', tool: 'db.*' },
        { id: 'drops', effect: 'allow', tool: 'db.drop*' },
        { id: 'no-drops', effect: 'deny', tool: 'db.drop*' },
        { id: 'old', effect: 'allow', tool: 'legacy.run', expires: '2020-01-01T00:00:00Z' },
        { id: 'ended', effect: 'allow', tool: 'legacy.stop', schedule: { until: '2020-01-01T00:00:00Z' } },
        { id: 'weekday-deny', effect: 'deny', tool: 'db.read', schedule: { days: ['sat', 'sun'] } },
      ],
    });
    const checked = await cli(['check', policy]);
    expect(checked.out).toMatch(/rule drops: unreachable: shadowed by the unconditional deny rule no-drops/);
    expect(checked.out).toMatch(/rule old: expired/);
    expect(checked.out).toMatch(/rule ended: unreachable: its schedule ended/);
    const result = await cli(['coverage', policy, '--tools', 'db.read,db.drop_table,legacy.run,legacy.stop']);
    expect(result.code).toBe(1);
    expect(result.out.split('\n')).toEqual([
      // A conditional deny does not make a tool uncovered.
      '✓ db.read (all-db)',
      '✗ db.drop_table: always denied by the unconditional deny rule no-drops; unreachable: drops (see policy check)',
      '✗ legacy.run: no reachable allow or ask rule (always denied); unreachable: old (see policy check)',
      '✗ legacy.stop: no reachable allow or ask rule (always denied); unreachable: ended (see policy check)',
      '1 of 4 tools covered',
    ]);
  });

  test('property: coverage agrees with check and with the engine', async () => {
    const globs = ['*', 'a.*', 'a.x', 'a.y', '*.x', 'b.*', 'b.z'];
    const rule = fc.record({
      effect: fc.constantFrom('allow', 'ask', 'deny'),
      tool: fc.constantFrom(...globs),
      conditional: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(rule, { maxLength: 6 }), async (specs) => {
        const document = {
          rules: specs.map((spec, index) => ({
            id: `r${index}`,
            effect: spec.effect,
            tool: spec.tool,
            ...(spec.conditional ? { when: { 'args.n': { gt: 0 } } } : {}),
          })),
        };
        const tools = ['a.x', 'a.y', 'b.z', 'c.x'];
        const result = await cli([
          'coverage',
          policyFile('random.json', document),
          '--tools',
          tools.join(','),
          '--json',
        ]);
        const report = JSON.parse(result.out) as {
          tools: { tool: string; covered: boolean; rules: string[]; deniedBy?: string }[];
        };
        const engine = rulesEngine(document.rules as never);
        const unreachable = new Set(
          lint(rulesOf(engine) ?? [], Date.now())
            .filter((warning) => /unreachable|expired/.test(warning.message))
            .map((warning) => warning.rule),
        );
        for (const entry of report.tools) {
          for (const id of entry.rules) expect(unreachable.has(id)).toBe(false);
          if (entry.deniedBy !== undefined) {
            expect(entry.covered).toBe(false);
            // An unconditional deny denies every call, whatever the args.
            for (const args of [{}, { n: 5 }]) {
              const decision = await engine.evaluate(
                {
                  callId: 'c',
                  depth: 0,
                  tool: { name: entry.tool },
                  args,
                  argsHash: '',
                  context: {},
                  now: Date.now(),
                } as never,
                { signal: new AbortController().signal },
              );
              expect(decision.type).toBe('deny');
            }
          }
        }
      }),
      { numRuns: 150 },
    );
  });

  test('a manifest it cannot read is named (exit 3); a bad --server is a usage error', async () => {
    const policy = policyFile('p.json', FILES_POLICY);
    const cases: [string, unknown, RegExp][] = [
      ['nameless.json', { tools: [{ name: 'a' }, { title: 'b' }] }, /nameless\.json: tool 1 has no name/],
      ['shape.json', { items: [] }, /expected a list of tools, \{ "tools": \[\.\.\.\] \}/],
      ['broken.json', '{"tools": [', /broken\.json is not JSON/],
    ];
    for (const [name, content, message] of cases) {
      const result = await cli(['coverage', policy, '--tools', policyFile(name, content)]);
      expect([name, result.code]).toEqual([name, 3]);
      expect(result.err).toMatch(message);
    }
    const missing = await cli(['coverage', policy, '--tools', '/nonexistent/tools.json']);
    expect(missing).toMatchObject({
      code: 3,
      err: 'toolgate policy coverage: cannot read /nonexistent/tools.json: no such file',
    });
    expect((await cli(['coverage', policy, '--tools', 'a', '--server', 'two words'])).code).toBe(2);
    expect((await cli(['coverage', policy, '--tool', 'a'])).code).toBe(2);
  });
});
