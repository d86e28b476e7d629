// The conformance suite through `toolgate mcp-proxy`, run as a child process in front of the real
// @modelcontextprotocol/server-filesystem: an MCP client → the proxy → the server, over stdio. The
// scenarios map onto the filesystem's tools; the expected trails and codes are the suite's own
// (harness.ts), so the proxy is held to what every other entry point does.
import { mkdirSync, mkdtempSync, readdirSync, realpathSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { auditVerify, EXPECTED, readTrail, SCENARIOS, type ScenarioName, trailOf } from './harness.ts';

const here = fileURLToPath(new URL('.', import.meta.url));
const runProxy = join(here, '..', 'adapters', 'mcp', 'servers', 'run-proxy.ts');
const filesystemServer = createRequire(import.meta.url).resolve(
  '@modelcontextprotocol/server-filesystem/dist/index.js',
);

/** The suite's policy, in the filesystem's terms (tools are named `fs.<tool>`). */
const POLICY = {
  rules: [
    { id: 'reads', effect: 'allow', tool: 'fs.read_text_file' },
    { id: 'no-writes', effect: 'deny', tool: 'fs.write_file', reason: 'writing files is not allowed' },
    {
      id: 'mkdir-needs-a-human',
      effect: 'ask',
      tool: 'fs.create_directory',
      reason: 'new directories need a human',
      approval: { timeout: '300ms' },
    },
    { id: 'limited', effect: 'allow', tool: 'fs.list_directory', limit: { rate: '1/1m' } },
  ],
};

/** Scenarios the proxy cannot run, and why (docs/testing.md lists them). */
const NOT_APPLICABLE: Partial<Record<ScenarioName, string>> = {
  'ask -> edit -> approve, re-decided':
    "the proxy asks through the client's elicitation form, which answers yes or no and cannot edit arguments",
  'kill switch':
    "the proxy's guard lives in the child process and mcp-proxy takes no shared store, so nothing outside can suspend it",
  'tool timeout':
    'server-filesystem has no tool slow enough to time out; the MCP gate’s timeout is run by the server and client wrappers',
  cancellation:
    'server-filesystem answers before a cancellation can reach it; the MCP gate’s cancellation is run by the server and client wrappers',
};

type Elicit = 'approve' | 'reject' | 'never';

async function connect(elicit: Elicit, flags: string[] = []) {
  const dir = mkdtempSync(join(tmpdir(), 'tg-proxy-'));
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'tg-files-')));
  writeFileSync(join(root, 'hello.txt'), 'hello from the filesystem');
  mkdirSync(join(root, 'docs'));
  const policyFile = join(dir, 'policy.json');
  writeFileSync(policyFile, JSON.stringify(POLICY));
  const auditPath = join(dir, 'audit.jsonl');
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [
      '--import',
      'tsx',
      runProxy,
      '--policy',
      policyFile,
      '--name',
      'fs',
      '--approve',
      'elicit',
      '--principal',
      'user:42',
      '--audit',
      auditPath,
      ...flags,
      '--',
      process.execPath,
      filesystemServer,
      root,
    ],
    env: process.env as Record<string, string>,
    stderr: 'pipe',
  });
  const stderr: string[] = [];
  transport.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString('utf8')));
  const client = new Client({ name: 'suite', version: '1.0.0' }, { capabilities: { elicitation: {} } });
  client.setRequestHandler(ElicitRequestSchema, async () => {
    if (elicit === 'never') await new Promise((resolve) => setTimeout(resolve, 2_000));
    return { action: 'accept', content: { approve: elicit === 'approve' } };
  });
  await client.connect(transport);
  return { client, root, auditPath, stderr: () => stderr.join('') };
}

async function call(client: Client, name: string, args: Record<string, unknown>) {
  const result = (await client.callTool({ name, arguments: args })) as {
    content: { text?: string }[];
    isError?: boolean;
  };
  const text = result.content.map((block) => block.text ?? '').join('\n');
  return `${result.isError === true ? 'isError' : 'ok'}: ${text}`;
}

const DENIED = (code: string) => new RegExp(`^isError: toolgate denied this call to fs\\.\\S+ \\(${code}\\)`);

describe('entry point: toolgate mcp-proxy (child process) + server-filesystem', () => {
  it("--denial-detail full: the client's model reads the rule and the failed condition", {
    timeout: 20_000,
  }, async () => {
    const proxy = await connect('approve', ['--denial-detail', 'full']);
    let saw: string;
    try {
      saw = await call(proxy.client, 'write_file', { path: join(proxy.root, 'new.txt'), content: 'x' });
    } finally {
      await proxy.client.close();
    }
    expect(saw).toMatch(DENIED('DENIED_BY_RULE'));
    expect(saw).toContain('writing files is not allowed [no-writes: tool.name is "fs.write_file"');
    expect(readTrail(proxy.auditPath)[0]).toMatchObject({
      rule: 'no-writes',
      failed: [{ path: 'tool.name' }],
    });
    // The proxy's own diagnostic line names the rule and the paths, never the values.
    expect(proxy.stderr()).toContain(
      'toolgate mcp-proxy: toolgate denied fs.write_file (DENIED_BY_RULE): writing files is not allowed [rule no-writes; failed: tool.name]',
    );
    expect(proxy.stderr()).not.toContain('tool.name is');
  });

  for (const scenario of SCENARIOS) {
    const reason = NOT_APPLICABLE[scenario];
    if (reason !== undefined) {
      it(`${scenario}: does not apply (${reason})`, () => {
        expect(reason.length).toBeGreaterThan(10);
      });
      continue;
    }
    it(scenario, { timeout: 20_000 }, async () => {
      const elicit: Elicit =
        scenario === 'ask -> reject' ? 'reject' : scenario === 'approval timeout' ? 'never' : 'approve';
      const proxy = await connect(elicit);
      const { client, root } = proxy;
      const expected = EXPECTED[scenario];
      let saw: string;
      try {
        switch (scenario) {
          case 'allow':
            saw = await call(client, 'read_text_file', { path: join(root, 'hello.txt') });
            expect(saw).toBe('ok: hello from the filesystem');
            break;
          case 'deny by default':
            saw = await call(client, 'move_file', {
              source: join(root, 'hello.txt'),
              destination: join(root, 'moved.txt'),
            });
            break;
          case 'deny by rule':
            saw = await call(client, 'write_file', { path: join(root, 'new.txt'), content: 'x' });
            break;
          case 'ask -> approve':
          case 'ask -> reject':
          case 'approval timeout':
            saw = await call(client, 'create_directory', { path: join(root, 'made') });
            if (scenario === 'ask -> approve') expect(saw).toMatch(/^ok: /);
            break;
          case 'rate limit':
            expect(await call(client, 'list_directory', { path: join(root, 'docs') })).toMatch(/^ok: /);
            saw = await call(client, 'list_directory', { path: join(root, 'docs') });
            break;
          case 'tool throws':
            saw = await call(client, 'read_text_file', { path: join(root, 'missing.txt') });
            expect(saw).toMatch(/^isError: /);
            expect(saw).toMatch(/ENOENT|no such file/i);
            break;
          default:
            throw new Error(`no mapping for ${scenario}`);
        }
      } finally {
        await client.close();
      }
      if (expected.code !== undefined) expect(saw).toMatch(DENIED(expected.code));
      // What ran, seen on the disk.
      expect(readdirSync(root).sort()).toEqual(
        scenario === 'ask -> approve' ? ['docs', 'hello.txt', 'made'] : ['docs', 'hello.txt'],
      );
      expect(trailOf(readTrail(proxy.auditPath))).toEqual(expected.trail);
      expect(await auditVerify(proxy.auditPath)).toBe(0);
    });
  }
});
