// Every subpath against the installed versions of its peer: one allowed and one denied call each.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createGuard, loadPolicy, memoryAudit, rules } from 'toolgate';
import { z } from 'zod';

const policy = rules([
  { id: 'weather', effect: 'allow', tool: 'weather' },
  { id: 'mcp-echo', effect: 'allow', tool: 'demo.echo' },
]);
const guard = () => {
  const audit = memoryAudit();
  return { audit, tg: createGuard({ policy, audit, onDeny: 'return' }) };
};
const codes = (audit) =>
  audit.events.filter((event) => event.type === 'decision').map((event) => event.code ?? 'allow');

test('ai-sdk: guardTools in a generateText loop', async () => {
  const { generateText, isStepCount, stepCountIs, tool } = await import('ai');
  const { MockLanguageModelV4 } = await import('ai/test');
  const { guardTools } = await import('toolgate/ai-sdk');
  const usage = {
    inputTokens: { total: 1, noCache: 1, cacheRead: undefined, cacheWrite: undefined },
    outputTokens: { total: 1, text: 1, reasoning: undefined },
  };
  const call = (toolName) => ({
    content: [{ type: 'tool-call', toolCallId: `c-${toolName}`, toolName, input: '{"city":"Oslo"}' }],
    finishReason: { unified: 'tool-calls', raw: 'tool_calls' },
    usage,
    warnings: [],
  });
  const text = {
    content: [{ type: 'text', text: 'done' }],
    finishReason: { unified: 'stop', raw: 'stop' },
    usage,
    warnings: [],
  };
  const { tg, audit } = guard();
  const execute = async ({ city }) => `sunny in ${city}`;
  const tools = guardTools(
    {
      weather: tool({ inputSchema: z.object({ city: z.string() }), execute }),
      rm: tool({ inputSchema: z.object({ city: z.string() }), execute }),
    },
    tg,
  );
  const stop = (isStepCount ?? stepCountIs)(2);
  for (const name of ['weather', 'rm'])
    await generateText({
      model: new MockLanguageModelV4({ doGenerate: [call(name), text] }),
      tools,
      stopWhen: stop,
      prompt: 'go',
    });
  assert.deepEqual(codes(audit), ['allow', 'NO_MATCHING_RULE']);
});

test('langchain: guardTool', async () => {
  const { tool } = await import('@langchain/core/tools');
  const { guardTool } = await import('toolgate/langchain');
  const { tg, audit } = guard();
  const make = (name) =>
    guardTool(
      tool(async ({ city }) => `sunny in ${city}`, { name, schema: z.object({ city: z.string() }) }),
      tg,
    );
  assert.equal(await make('weather').invoke({ city: 'Oslo' }), 'sunny in Oslo');
  assert.match(String(await make('rm').invoke({ city: 'Oslo' })), /NO_MATCHING_RULE/);
  assert.deepEqual(codes(audit), ['allow', 'NO_MATCHING_RULE']);
  // langchain itself resolves beside @langchain/core.
  assert.equal(typeof (await import('langchain')).createAgent, 'function');
});

test('openai-agents: guardTool in a run', async () => {
  const { Agent, run, setTracingDisabled, tool } = await import('@openai/agents');
  const { ScriptedModel, assistantMessage, functionCall } = await import('@openai/agents/testing');
  const { guardTool } = await import('toolgate/openai-agents');
  setTracingDisabled(true);
  const { tg, audit } = guard();
  for (const name of ['weather', 'rm']) {
    const model = new ScriptedModel([
      [functionCall(name, { city: 'Oslo' }, { callId: `c-${name}` })],
      [assistantMessage('done')],
    ]);
    const guarded = guardTool(
      tool({
        name,
        description: name,
        parameters: z.object({ city: z.string() }),
        execute: async () => 'sunny',
      }),
      tg,
    );
    await run(new Agent({ name: 'a', model, tools: [guarded] }), 'go');
  }
  assert.deepEqual(codes(audit), ['allow', 'NO_MATCHING_RULE']);
});

for (const line of ['v1', 'v2']) {
  test(`mcp: guardMcpServer with the SDK ${line}`, async () => {
    const { guardMcpServer } = await import('toolgate/mcp');
    const { McpServer, Client, InMemoryTransport } =
      line === 'v1'
        ? {
            McpServer: (await import('@modelcontextprotocol/sdk/server/mcp.js')).McpServer,
            Client: (await import('@modelcontextprotocol/sdk/client/index.js')).Client,
            InMemoryTransport: (await import('@modelcontextprotocol/sdk/inMemory.js')).InMemoryTransport,
          }
        : {
            McpServer: (await import('@modelcontextprotocol/server')).McpServer,
            ...(await import('@modelcontextprotocol/client')),
          };
    const { tg, audit } = guard();
    const server = new McpServer({ name: 'demo', version: '1.0.0' });
    const schema = line === 'v1' ? { message: z.string() } : z.object({ message: z.string() });
    for (const name of ['echo', 'rm'])
      server.registerTool(name, { inputSchema: schema }, async ({ message }) => ({
        content: [{ type: 'text', text: message }],
      }));
    guardMcpServer(server, tg, { server: 'demo' });
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    const client = new Client({ name: 'app', version: '1.0.0' });
    await server.connect(serverSide);
    await client.connect(clientSide);
    assert.equal(
      (await client.callTool({ name: 'echo', arguments: { message: 'hi' } })).content[0].text,
      'hi',
    );
    assert.equal((await client.callTool({ name: 'rm', arguments: { message: 'x' } })).isError, true);
    await client.close();
    assert.deepEqual(codes(audit), ['allow', 'NO_MATCHING_RULE']);
  });
}

test('otel: otelAudit records without a configured SDK', async () => {
  const { otelAudit } = await import('toolgate/otel');
  const tg = createGuard({ policy, audit: otelAudit() });
  assert.equal(await tg.guard(() => 'ok', { name: 'weather' })({}), 'ok');
  await tg.close();
});

test('sql: sqlScope', async () => {
  const { sqlScope } = await import('toolgate/sql');
  const tg = createGuard({
    policy: rules([
      {
        id: 'orders',
        effect: 'allow',
        tool: 'db.query',
        when: { 'args.sql': sqlScope({ dialect: 'postgresql', tables: ['orders'] }) },
      },
    ]),
  });
  tg.guard(() => 'rows', { name: 'db.query' });
  assert.equal((await tg.check('db.query', { sql: 'SELECT id FROM orders' })).type, 'allow');
  assert.equal((await tg.check('db.query', { sql: 'SELECT * FROM users' })).type, 'deny');
});

test('cedar: cedarEngine', async () => {
  const { cedarEngine } = await import('toolgate/cedar');
  const engine = cedarEngine({
    policies: { weather: 'permit(principal, action == Action::"weather", resource);' },
  });
  const tg = createGuard({ policy: engine, onDeny: 'return' });
  assert.equal(await tg.guard(() => 'sunny', { name: 'weather' })({}), 'sunny');
  assert.equal((await tg.guard(() => 'x', { name: 'rm' })({})).code, 'NO_MATCHING_RULE');
});

test('yaml: a YAML policy file', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'consumer-')), 'policy.yaml');
  writeFileSync(file, 'rules:\n  - id: weather\n    effect: allow\n    tool: weather\n');
  const engine = await loadPolicy(file);
  const tg = createGuard({ policy: engine });
  assert.equal(await tg.guard(() => 'sunny', { name: 'weather' })({}), 'sunny');
  await tg.close();
});

test('redis: redisStore', async (t) => {
  const { Redis } = await import('ioredis');
  const { redisStore } = await import('toolgate/redis');
  const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const client = new Redis(url, {
    lazyConnect: true,
    retryStrategy: () => null,
  });
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (error) {
    if (process.env.TOOLGATE_REQUIRE_REDIS === '1') throw error;
    t.skip(`no Redis: ${error.message}`);
    return;
  }
  const store = redisStore({ client, prefix: `consumer-${process.pid}-${Date.now()}:` });
  const tg = createGuard({
    policy: rules([{ id: 'w', effect: 'allow', tool: 'weather', limit: { rate: '1/1m' } }]),
    store,
    onDeny: 'return',
  });
  const weather = tg.guard(() => 'sunny', { name: 'weather' });
  assert.equal(await weather({}), 'sunny');
  assert.equal((await weather({})).code, 'RATE_LIMITED');
  await store.close();
  client.disconnect();
  // The installed command finds ioredis beside it.
  const listed = spawnSync(
    'npx',
    [
      '--no-install',
      'toolgate',
      'approvals',
      'list',
      '--redis',
      url,
      '--prefix',
      `consumer-cli-${process.pid}:`,
    ],
    {
      encoding: 'utf8',
      env: { ...process.env, TOOLGATE_APPROVAL_SECRET: 'a-secret-that-is-at-least-32-bytes-long' },
    },
  );
  assert.equal(listed.status, 0, listed.stderr);
  assert.equal(listed.stdout.trim(), 'no pending approvals');
});
