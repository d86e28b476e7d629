// With secrets handed to the server, nothing the server sends reaches the client unscrubbed: not a
// decided call's result only, but every answer, notification and late message, over stdio and HTTP.
import { afterEach, beforeAll, describe, expect, test } from 'vitest';
import { guardRecorder } from '../../../src/_internal/guard-records.ts';
import { type McpHttpProxy, serveMcpProxyHttp } from '../../../src/adapters/mcp/http-listener.ts';
import {
  type AgentRegistry,
  agentRegistry,
  createKeySet,
  generateSigningKey,
  issueCredential,
} from '../../../src/identity/index.ts';
import { createGuard, envSecrets, memoryAudit, memoryStore, rules } from '../../../src/index.ts';
import { EVIL_SERVER } from './proxy-client.ts';
import { INITIALIZE, INITIALIZED, initialize, inProcessProxy } from './raw-client.ts';

const KEY = 'sk_live_Zq7vT2mWp9xK4rLs8bNc3dFh';
const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let identity: { keys: Awaited<ReturnType<typeof createKeySet>>; registry: AgentRegistry; audience: string };
let bearer: string;
beforeAll(async () => {
  const keys = await createKeySet({ signing: await generateSigningKey({ kid: 'k1' }) });
  const registry = agentRegistry({ store: memoryStore() });
  await registry.register('bot', {
    owner: 'team:x',
    tools: ['mcp.*', 'mcp:resources/read'],
    principals: ['user:*'],
    maxTtl: '1h',
  });
  identity = { keys, registry, audience: 'mcp' };
  bearer = await issueCredential(
    { keys, registry },
    { agent: 'bot', principal: 'user:1', tools: ['mcp.*', 'mcp:resources/read'], audience: 'mcp' },
  );
});

function secretGuard() {
  const tg = createGuard({
    identity,
    policy: rules([
      { id: 'echo', effect: 'allow', tool: 'mcp.echo' },
      { id: 'slow', effect: 'allow', tool: 'mcp.slow', obligations: { timeout: '200ms' } },
      // Requests other than tools/call are decided too (as `<server>:<method>`).
      { id: 'read', effect: 'allow', tool: 'mcp:resources/read' },
    ]),
    audit: memoryAudit(),
    secrets: { provider: envSecrets({ prefix: 'TOOLGATE_TEST_NONE_' }), bindings: {} },
  });
  closers.push(() => tg.close());
  // The key the server is given, as the CLI hands it out (--server-secret).
  const handOut = () => guardRecorder(tg)!.handedOut('stripe', KEY);
  return { tg, handOut };
}

describe('runMcpProxy with secrets (stdio)', () => {
  test('every server message is scrubbed: answers, notifications, and no late answer', async () => {
    const { tg, handOut } = secretGuard();
    handOut();
    const proxy = inProcessProxy(tg, {
      command: process.execPath,
      args: [EVIL_SERVER.path],
      env: { ...process.env, KEY },
      server: 'mcp',
      context: { credential: bearer },
    });
    closers.push(proxy.close);
    const { send, lines } = proxy;
    await initialize(proxy);
    send({ jsonrpc: '2.0', id: 1, method: 'resources/read', params: { uri: 'x://cfg' } });
    send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x' } } });
    send({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'slow', arguments: {} } });
    await sleep(1_500);
    const all = lines.join('\n');
    expect(all).not.toContain(KEY);
    const messages = lines.map((line) => JSON.parse(line));
    expect(JSON.stringify(messages.find((message) => message.id === 1))).toContain('key=[secret:stripe]');
    expect(JSON.stringify(messages.find((message) => message.method === 'notifications/message'))).toContain(
      '[secret:stripe]',
    );
    expect(JSON.stringify(messages.find((message) => message.id === 2))).toContain('[secret:stripe]');
    expect(messages.filter((message) => message.id === 3)).toHaveLength(1);
  }, 20_000);
});

describe('serveMcpProxyHttp with secrets', () => {
  async function listen(): Promise<McpHttpProxy> {
    const { tg, handOut } = secretGuard();
    const proxy = await serveMcpProxyHttp(tg, {
      command: process.execPath,
      args: [EVIL_SERVER.path],
      server: 'mcp',
      log: () => undefined,
      authenticate: async () => ({ ok: true, caller: { agent: 'bot', principal: 'user:1' } }),
      serverEnv: async () => {
        handOut();
        return { ...process.env, KEY };
      },
    });
    closers.push(() => proxy.close());
    return proxy;
  }

  function session(url: string) {
    let id = '';
    const headers = () => ({
      authorization: `Bearer ${bearer}`,
      'content-type': 'application/json',
      ...(id === '' ? {} : { 'mcp-session-id': id }),
    });
    return {
      async post(body: unknown): Promise<string> {
        const response = await fetch(url, {
          method: 'POST',
          headers: headers(),
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(5_000),
        });
        id = response.headers.get('mcp-session-id') ?? id;
        return response.text();
      },
      /** What the event stream carries within `ms`. */
      async stream(ms: number): Promise<string> {
        const controller = new AbortController();
        const response = await fetch(url, { headers: headers(), signal: controller.signal });
        const reader = response.body!.getReader();
        const timer = setTimeout(() => controller.abort(), ms);
        let text = '';
        try {
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            text += new TextDecoder().decode(value);
          }
        } catch {
          // Aborted: the window is over.
        }
        clearTimeout(timer);
        return text;
      },
    };
  }

  test('answers, notifications and late messages are scrubbed; a guard timeout sends no second answer', async () => {
    const proxy = await listen();
    const client = session(proxy.url);
    expect(await client.post(INITIALIZE)).toContain('"id":0');
    await client.post(INITIALIZED);
    const read = await client.post({
      jsonrpc: '2.0',
      id: 1,
      method: 'resources/read',
      params: { uri: 'x://cfg' },
    });
    expect(read).toContain('key=[secret:stripe]');
    expect(read).not.toContain(KEY);
    const slow = await client.post({
      jsonrpc: '2.0',
      id: 2,
      method: 'tools/call',
      params: { name: 'slow', arguments: {} },
    });
    expect(slow).toContain('TIMEOUT');
    const events = await client.stream(1_000);
    expect(events).toContain('[secret:stripe]');
    expect(events).not.toContain(KEY);
    // The slow tool's late result is not a second answer to id 2.
    expect(events).not.toContain('"id":2');
  }, 20_000);

  test('a request with the id of one in flight, in a batch or another POST, is refused; none hangs', async () => {
    const proxy = await listen();
    const client = session(proxy.url);
    await client.post(INITIALIZE);
    await client.post(INITIALIZED);
    const call = {
      jsonrpc: '2.0',
      id: 4,
      method: 'tools/call',
      params: { name: 'echo', arguments: { text: 'y' } },
    };
    const first = client.post(call);
    await sleep(100);
    const ping = await client.post({ jsonrpc: '2.0', id: 4, method: 'ping' });
    expect(JSON.parse(ping).error.message).toBe('toolgate: duplicate request id (one is in flight)');
    // The call's own POST gets the call's answer (scrubbed), not the ping's.
    const answer = JSON.parse(await first);
    expect(JSON.stringify(answer.result)).toContain('echo ran {\\"text\\":\\"y\\"} key=[secret:stripe]');
    const batch = JSON.parse(
      await client.post([
        { ...call, id: 5 },
        { jsonrpc: '2.0', id: 5, method: 'ping' },
      ]),
    );
    expect(batch).toHaveLength(2);
    expect(batch.map((reply: { error?: { message: string } }) => reply.error?.message)).toEqual([
      undefined,
      'toolgate: duplicate request id (one is in flight)',
    ]);
  }, 20_000);
});
