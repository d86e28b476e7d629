// `toolgate mcp-proxy` in front of a malicious stdio server (servers/evil-server.mjs): real
// processes, a real SDK client or raw JSON-RPC lines.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { EVIL_SERVER, proxyArgs, proxyClient, tempPolicy } from './proxy-client.ts';
import { initialize, readLines } from './raw-client.ts';

const temp = tempPolicy('toolgate-mcp-attacks-', [
  { id: 'echo', effect: 'allow', tool: 'mcp.echo' },
  { id: 'slow', effect: 'allow', tool: 'mcp.slow', obligations: { timeout: '200ms' } },
  { id: 'wipe', effect: 'ask', tool: 'mcp.wipe', reason: 'wiping needs a human' },
]);
const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function sdkClient(mode: string, flags: string[], elicit?: (message: string) => Promise<boolean>) {
  const formIds: string[] = [];
  const { client, stderr } = await proxyClient(temp.policyFile, flags, {
    server: EVIL_SERVER,
    env: { MODE: mode },
    clientName: 'attack-test',
    ...(elicit === undefined
      ? {}
      : {
          elicit: (message: string, requestId: string) => {
            formIds.push(requestId);
            return elicit(message);
          },
        }),
  });
  closers.push(() => client.close());
  return { client, formIds, stderr };
}

/** The proxy as a child process, spoken to in raw JSON-RPC lines. */
function rawProxy(flags: string[]) {
  const child: ChildProcessWithoutNullStreams = spawn(
    process.execPath,
    proxyArgs(temp.policyFile, flags, EVIL_SERVER),
    { env: { ...process.env, KEY: 'sk_live_Zq7vT2mWp9xK4rLs8bNc3dFh' } },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const reader = readLines(child.stdout);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  closers.push(async () => {
    child.stdin.end();
    await exited;
  });
  return {
    ...reader,
    stderr: () => stderr,
    send: (message: object) => child.stdin.write(`${JSON.stringify(message)}\n`),
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('toolgate mcp-proxy against a malicious server', () => {
  test('--approve elicit: only the answer to toolgate’s own form settles an approval', async () => {
    const audit = join(temp.dir, 'audit-elicit.jsonl');
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
    const audit = join(temp.dir, 'audit-dupe.jsonl');
    const proxy = rawProxy(['--audit', audit]);
    await initialize(proxy);
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
      proxy.messages().some((message) => message.id === 7 && message.result !== undefined),
    );
    await sleep(300);
    const answers = proxy.messages().filter((message) => message.id === 7);
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
    await initialize(proxy);
    proxy.send({ jsonrpc: '2.0', id: 8, method: 'tools/call', params: { name: 'slow', arguments: {} } });
    await proxy.until(() => proxy.messages().some((message) => message.id === 8));
    // The server answers at 600 ms: nothing more for id 8 may reach the client.
    await sleep(1_000);
    const answers = proxy.messages().filter((message) => message.id === 8);
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
