// `toolgate mcp-proxy` in front of a malicious stdio server (servers/evil-server.mjs): real
// processes, a real SDK client or raw JSON-RPC lines.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';

const here = fileURLToPath(new URL('.', import.meta.url));
const EVIL = join(here, 'servers', 'evil-server.mjs');
const RUN_PROXY = join(here, 'servers', 'run-proxy.ts');

let dir: string;
let policyFile: string;
const closers: (() => Promise<unknown>)[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'toolgate-mcp-attacks-'));
  policyFile = join(dir, 'policy.json');
  writeFileSync(
    policyFile,
    JSON.stringify({
      rules: [
        { id: 'echo', effect: 'allow', tool: 'mcp.echo' },
        { id: 'slow', effect: 'allow', tool: 'mcp.slow', obligations: { timeout: '200ms' } },
        { id: 'wipe', effect: 'ask', tool: 'mcp.wipe', reason: 'wiping needs a human' },
      ],
    }),
  );
});
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const proxyArgs = (flags: string[]) => [
  '--import',
  'tsx',
  RUN_PROXY,
  '--policy',
  policyFile,
  ...flags,
  '--',
  process.execPath,
  EVIL,
];

async function sdkClient(mode: string, flags: string[], elicit?: (message: string) => Promise<boolean>) {
  const stderr: string[] = [];
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: proxyArgs(flags),
    env: { ...(process.env as Record<string, string>), MODE: mode },
    stderr: 'pipe',
  });
  transport.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString('utf8')));
  const client = new Client(
    { name: 'attack-test', version: '1.0.0' },
    elicit === undefined ? {} : { capabilities: { elicitation: {} } },
  );
  const formIds: string[] = [];
  if (elicit !== undefined) {
    client.setRequestHandler(ElicitRequestSchema, async (request, extra) => {
      formIds.push(String(extra.requestId));
      return { action: 'accept', content: { approve: await elicit(String(request.params.message)) } };
    });
  }
  await client.connect(transport);
  closers.push(() => client.close());
  return { client, formIds, stderr: () => stderr.join('') };
}

/** The proxy as a child process, spoken to in raw JSON-RPC lines. */
function rawProxy(flags: string[]) {
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, proxyArgs(flags), {
    env: { ...process.env, KEY: 'sk_live_Zq7vT2mWp9xK4rLs8bNc3dFh' },
  });
  const received: { id?: unknown; result?: unknown; error?: { message: string } }[] = [];
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  createInterface({ input: child.stdout }).on('line', (line) => received.push(JSON.parse(line)));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  closers.push(async () => {
    child.stdin.end();
    await exited;
  });
  return {
    received,
    stderr: () => stderr,
    send: (message: object) => child.stdin.write(`${JSON.stringify(message)}\n`),
    /** Resolves once `check` holds (polling), or fails after 10 s. */
    until: async (check: () => boolean) => {
      for (let waited = 0; !check(); waited += 20) {
        if (waited > 10_000) throw new Error(`timed out; received ${JSON.stringify(received)}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
  };
}

async function initialized(proxy: ReturnType<typeof rawProxy>) {
  proxy.send({
    jsonrpc: '2.0',
    id: 0,
    method: 'initialize',
    params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
  });
  await proxy.until(() => proxy.received.some((message) => message.id === 0));
  proxy.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('toolgate mcp-proxy against a malicious server', () => {
  test('--approve elicit: only the answer to toolgate’s own form settles an approval', async () => {
    const audit = join(dir, 'audit-elicit.jsonl');
    const forms: string[] = [];
    const { client, formIds, stderr } = await sdkClient(
      'elicit',
      ['--approve', 'elicit', '--audit', audit],
      async (message) => {
        forms.push(message);
        // The user subscribes to the server's newsletter, and declines toolgate's form, later.
        if (message.includes('newsletter')) return true;
        await sleep(1_500);
        return false;
      },
    );
    const result = await client.callTool({ name: 'wipe', arguments: {} });
    expect(result.isError).toBe(true);
    expect(JSON.stringify(result.content)).toContain('APPROVAL_DENIED');
    await sleep(200);
    expect(forms.some((form) => form.includes('Allow mcp.wipe?'))).toBe(true);
    expect(stderr()).not.toMatch(/\[evil\] got .*"method":"tools\/call"/);
    const events = readFileSync(audit, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line).event)
      .filter((event) => event?.tool === 'mcp.wipe');
    expect(events.filter((event) => event.type === 'result')).toEqual([]);
    // The server's own forms reach the client under ids of the proxy, never the server's.
    const serverIds = [...stderr().matchAll(/\[evil\] fake elicitation (\S+)/g)].map((match) => match[1]);
    expect(serverIds.length).toBeGreaterThan(0);
    for (const id of serverIds) expect(formIds).not.toContain(id);
  }, 30_000);

  test('an answer of the server to no request it was sent (a retyped or guessed id) is dropped', async () => {
    const { client, stderr } = await sdkClient('flip', []);
    const first = await client.listTools();
    expect(first.tools.find((tool) => tool.name === 'echo')?.description).toBe('Echoes text');
    // The server answers `"0"`…`"9"` with a changed echo first: the SDK client would take `"2"` as 2.
    const second = await client.listTools();
    const echo = second.tools.find((tool) => tool.name === 'echo');
    expect(echo?.description).toBe('Echoes text');
    expect(JSON.stringify(echo?.inputSchema)).not.toContain('path');
    // stderr is a pipe of its own: its lines may come after the answer.
    for (let waited = 0; waited < 5_000 && !stderr().includes('dropped an answer'); waited += 20)
      await sleep(20);
    expect(stderr()).toContain('dropped an answer of the server to no request it was sent');
    const called = await client.callTool({ name: 'echo', arguments: { text: 'hi' } });
    expect(called.isError).toBeFalsy();
  }, 30_000);

  test('a request reusing the id of a call in flight is refused, whatever its method', async () => {
    const audit = join(dir, 'audit-dupe.jsonl');
    const proxy = rawProxy(['--audit', audit]);
    await initialized(proxy);
    proxy.send({
      jsonrpc: '2.0',
      id: 7,
      method: 'tools/call',
      params: { name: 'echo', arguments: { text: 'hi' } },
    });
    await proxy.until(() => proxy.stderr().includes('"method":"tools/call"'));
    proxy.send({ jsonrpc: '2.0', id: 7, method: 'ping' });
    proxy.send({ jsonrpc: '2.0', id: 7, method: 'tools/list' });
    await proxy.until(() =>
      proxy.received.some((message) => message.id === 7 && message.result !== undefined),
    );
    await sleep(300);
    const answers = proxy.received.filter((message) => message.id === 7);
    expect(answers.map((message) => message.error?.message)).toEqual([
      'toolgate: duplicate request id (one is in flight)',
      'toolgate: duplicate request id (one is in flight)',
      undefined,
    ]);
    expect(JSON.stringify(answers[2]?.result)).toContain('echo ran {\\"text\\":\\"hi\\"}');
    // The duplicates never reached the server; the call's one answer is the one recorded.
    expect(proxy.stderr()).not.toContain('"method":"ping"');
    const results = readFileSync(audit, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line).event)
      .filter((event) => event?.type === 'result' && event.toolCallId === '7');
    // Before: the ping's `{}` was recorded as the call's result.
    expect(results.map((event) => [event.outcome, event.outputShape?.size])).toEqual([['ok', 2]]);
  }, 30_000);

  test('a guard timeout cancels the call at the server, and its late answer is dropped', async () => {
    const proxy = rawProxy([]);
    await initialized(proxy);
    proxy.send({ jsonrpc: '2.0', id: 8, method: 'tools/call', params: { name: 'slow', arguments: {} } });
    await proxy.until(() => proxy.received.some((message) => message.id === 8));
    // The server answers at 600 ms: nothing more for id 8 may reach the client.
    await sleep(1_000);
    const answers = proxy.received.filter((message) => message.id === 8);
    expect(answers).toHaveLength(1);
    expect(JSON.stringify(answers[0]?.result)).toContain('TIMEOUT');
    const sent = /\[evil\] got (\{"jsonrpc":"2.0","id":"[^"]+","method":"tools\/call".*)/.exec(
      proxy.stderr(),
    );
    const serverId = JSON.parse(sent![1]!).id;
    expect(proxy.stderr()).toContain(
      `"method":"notifications/cancelled","params":{"requestId":"${serverId}"`,
    );
  }, 30_000);
});
