// Client requests other than tools/call (resources, prompts, completions) reach the server's data,
// so they are decided by the policy like tool calls, as `<server>:<method>` with their params as
// the arguments, and recorded. Deny by default: without a rule nothing is relayed. Only the
// protocol's own requests (initialize, ping, tools/list, logging/setLevel) pass undecided.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { afterEach, describe, expect, test } from 'vitest';
import { z } from 'zod';
import { guardMcpServer, MCP_DENIED_ERROR } from '../../../src/adapters/mcp/index.ts';
import { createGuard, memoryAudit, type Rule, rules } from '../../../src/index.ts';
import { EVIL_SERVER } from './proxy-client.ts';
import { initialize, inProcessProxy } from './raw-client.ts';

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

/** A server with two file resources, a prompt and a tool; `read` lists the URIs it was asked for. */
function filesServer(read: string[]) {
  const server = new McpServer({ name: 'files', version: '1.0.0' });
  for (const uri of ['file:///srv/notes.txt', 'file:///etc/shadow']) {
    server.registerResource(uri, uri, { mimeType: 'text/plain' }, async () => {
      read.push(uri);
      return { contents: [{ uri, text: `contents of ${uri}` }] };
    });
  }
  server.registerPrompt('summarize', { argsSchema: { topic: z.string() } }, ({ topic }) => ({
    messages: [{ role: 'user', content: { type: 'text', text: `summarize ${topic}` } }],
  }));
  server.registerTool('echo', { inputSchema: { text: z.string() } }, ({ text }) => ({
    content: [{ type: 'text', text }],
  }));
  return server;
}

async function connect(policy: readonly Rule[]) {
  const read: string[] = [];
  const audit = memoryAudit();
  const tg = createGuard({ policy: rules([...policy]), audit });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await guardMcpServer(filesServer(read), tg, { server: 'files' }).connect(serverSide as never);
  const client = new Client({ name: 'test-client', version: '1.0.0' });
  await client.connect(clientSide);
  closers.push(() => client.close());
  const decisions = () =>
    audit.events
      .filter((e) => e.type === 'decision')
      .map((e) => `${e.tool} ${e.decision}${e.code === undefined ? '' : ` ${e.code}`}`);
  return { client, read, audit, decisions };
}

const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error as { code?: number; message?: string; data?: { code?: string; tool?: string } },
  );

describe('guardMcpServer: requests other than tools/call are decided', () => {
  test('without a rule, a resource read is denied, recorded, and never reaches the server', async () => {
    const { client, read, audit, decisions } = await connect([
      { id: 'echo', effect: 'allow', tool: 'files.echo' },
    ]);
    // The protocol's own requests pass: the handshake (connect), ping, tools/list.
    await client.ping();
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['echo']);
    const error = await refusal(client.readResource({ uri: 'file:///etc/shadow' }));
    expect(error?.code).toBe(MCP_DENIED_ERROR);
    expect(error?.message).toContain('files:resources/read');
    expect(error?.data).toMatchObject({ code: 'NO_MATCHING_RULE', tool: 'files:resources/read' });
    expect(read).toEqual([]);
    expect(decisions()).toEqual(['files:resources/read deny NO_MATCHING_RULE']);
    expect(audit.events.find((e) => e.type === 'decision')).toMatchObject({
      args: { uri: 'file:///etc/shadow' },
    });
    // Listings are decided too.
    expect((await refusal(client.listResources()))?.data).toMatchObject({ tool: 'files:resources/list' });
    expect((await refusal(client.listPrompts()))?.data).toMatchObject({ tool: 'files:prompts/list' });
    expect(
      (await refusal(client.getPrompt({ name: 'summarize', arguments: { topic: 'x' } })))?.data,
    ).toMatchObject({ tool: 'files:prompts/get' });
  });

  test('a rule allows what it names, with conditions on the params; the result is recorded', async () => {
    const { client, read, decisions, audit } = await connect([
      { id: 'list', effect: 'allow', tool: 'files:resources/list' },
      {
        id: 'srv',
        effect: 'allow',
        tool: 'files:resources/read',
        when: { 'args.uri': { startsWith: 'file:///srv/' } },
      },
    ]);
    expect((await client.listResources()).resources.map((r) => r.uri).sort()).toEqual([
      'file:///etc/shadow',
      'file:///srv/notes.txt',
    ]);
    const notes = await client.readResource({ uri: 'file:///srv/notes.txt' });
    expect(notes.contents[0]).toMatchObject({ text: 'contents of file:///srv/notes.txt' });
    const error = await refusal(client.readResource({ uri: 'file:///etc/shadow' }));
    expect(error?.data).toMatchObject({ code: 'NO_MATCHING_RULE' });
    expect(read).toEqual(['file:///srv/notes.txt']);
    expect(decisions()).toEqual([
      'files:resources/list allow',
      'files:resources/read allow',
      'files:resources/read deny NO_MATCHING_RULE',
    ]);
    expect(audit.events.filter((e) => e.type === 'result').map((e) => e.outcome)).toEqual(['ok', 'ok']);
  });

  test('a server error is relayed as the server sent it and recorded as the call’s error', async () => {
    const { client, audit } = await connect([{ id: 'read', effect: 'allow', tool: 'files:resources/read' }]);
    const error = await refusal(client.readResource({ uri: 'file:///nowhere' }));
    expect(error?.code).not.toBe(MCP_DENIED_ERROR);
    expect(audit.events.filter((e) => e.type === 'result').map((e) => e.outcome)).toEqual(['error']);
  });

  test('a method MCP does not define is denied UNKNOWN_TOOL under one name, even with a rule for everything', async () => {
    const { client, decisions } = await connect([{ id: 'all', effect: 'allow', tool: '*' }]);
    for (const method of ['admin/wipe', 'x.y', 'resources/read2']) {
      const error = await refusal(client.request({ method, params: {} }, z.object({}).passthrough()));
      expect(error?.data).toMatchObject({ code: 'UNKNOWN_TOOL', tool: 'files:(unknown-method)' });
    }
    expect(decisions()).toEqual(Array(3).fill('files:(unknown-method) deny UNKNOWN_TOOL'));
  });
});

describe('runMcpProxy: requests other than tools/call are decided', () => {
  async function proxy(policy: readonly Rule[]) {
    const audit = memoryAudit();
    const tg = createGuard({ policy: rules([...policy]), audit });
    const raw = inProcessProxy(tg, { command: process.execPath, args: [EVIL_SERVER.path], server: 'mcp' });
    closers.push(raw.close);
    await initialize(raw);
    return { send: raw.send, answer: raw.answer, audit };
  }

  test('resources/read is denied by default, and relayed once a rule allows it', async () => {
    const closed = await proxy([]);
    closed.send({ jsonrpc: '2.0', id: 1, method: 'resources/read', params: { uri: 'x://cfg' } });
    expect((await closed.answer(1)).error).toMatchObject({
      code: MCP_DENIED_ERROR,
      data: { code: 'NO_MATCHING_RULE', tool: 'mcp:resources/read' },
    });
    const open = await proxy([{ id: 'read', effect: 'allow', tool: 'mcp:resources/read' }]);
    open.send({ jsonrpc: '2.0', id: 1, method: 'resources/read', params: { uri: 'x://cfg' } });
    expect((await open.answer(1)).result).toBeDefined();
    expect(open.audit.events.map((e) => e.type)).toEqual(['decision', 'result']);
  }, 20_000);
});
