// A decided request (a tools/call, or another method) that fails inside toolgate, not by a denial,
// gets a JSON-RPC error (-32603) and is never relayed: through guardMcpServer and runMcpProxy alike.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, test } from 'vitest';
import { z } from 'zod';
import { guardMcpServer } from '../../../src/adapters/mcp/index.ts';
import { createGuard, memoryAudit, rules } from '../../../src/index.ts';
import { initialize, inProcessProxy } from './raw-client.ts';

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

const everything = rules([{ id: 'all', effect: 'allow' }]);

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error as { code?: number; message?: string },
  );

describe('guardMcpServer: an internal failure is a JSON-RPC error', () => {
  test('a response the transport cannot send: the call and the resource read get -32603 instead', async () => {
    const server = new McpServer({ name: 'files', version: '1.0.0' });
    server.registerTool('echo', { inputSchema: { text: z.string() } }, ({ text }) => ({
      content: [{ type: 'text', text }],
    }));
    server.registerResource('notes', 'file:///notes', {}, async () => ({
      contents: [{ uri: 'file:///notes', text: 'unsendable notes' }],
    }));
    const audit = memoryAudit();
    guardMcpServer(server, createGuard({ policy: everything, audit }), { server: 'files' });
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    // A transport that fails to send some messages (a stream that closed, a body too large).
    const send = serverSide.send.bind(serverSide);
    serverSide.send = async (message, options) => {
      if (JSON.stringify(message).includes('unsendable')) throw new Error('the stream refused it');
      return send(message, options);
    };
    await server.connect(serverSide);
    const client = new Client({ name: 'app', version: '1.0.0' });
    await client.connect(clientSide);
    closers.push(() => client.close());
    const call = await failure(client.callTool({ name: 'echo', arguments: { text: 'unsendable' } }));
    expect(call).toMatchObject({ code: -32603 });
    expect(call?.message).toContain('toolgate: the stream refused it');
    const read = await failure(client.readResource({ uri: 'file:///notes' }));
    expect(read).toMatchObject({ code: -32603 });
    expect(read?.message).toContain('toolgate: the stream refused it');
    // Both ran and were recorded; only their answers could not be sent.
    expect(audit.events.filter((event) => event.type === 'result').map((event) => event.outcome)).toEqual([
      'ok',
      'ok',
    ]);
  });
});

describe('guardMcpServer: a tools/call whose name cannot be printed', () => {
  // JSON can carry such a name ({"toString":1}): String() of it throws.
  const unprintable = { toString: 1, valueOf: 1 };

  async function call(context?: () => { agent: string }) {
    const ran: string[] = [];
    const server = new McpServer({ name: 'files', version: '1.0.0' });
    server.registerTool('echo', { inputSchema: { text: z.string() } }, ({ text }) => {
      ran.push(text);
      return { content: [{ type: 'text', text }] };
    });
    const tg = createGuard({ policy: everything });
    guardMcpServer(server, tg, context === undefined ? { server: 'files' } : { server: 'files', context });
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await server.connect(serverSide);
    const client = new Client({ name: 'app', version: '1.0.0' });
    await client.connect(clientSide);
    closers.push(() => client.close());
    const request = {
      method: 'tools/call',
      params: { name: unprintable as never, arguments: { text: 'x' } },
    };
    const answer = await client.request(request, CallToolResultSchema).then(
      (result) => ({ result }),
      (error: { code?: number; message?: string }) => ({ error }),
    );
    return { answer, ran };
  }

  test('is answered: denied as an unknown tool, or a JSON-RPC error when a context function needs its name', async () => {
    const plain = await call();
    expect(plain.answer).toMatchObject({ result: { isError: true } });
    expect(JSON.stringify(plain.answer)).toContain('UNKNOWN_TOOL');
    const withContext = await call(() => ({ agent: 'a' }));
    expect(withContext.answer).toMatchObject({
      error: { code: -32603, message: expect.stringContaining('toolgate: ') },
    });
    expect([...plain.ran, ...withContext.ran]).toEqual([]);
  });
});

describe('runMcpProxy: an internal failure is a JSON-RPC error', () => {
  // A server that lists one tool and exits when it is sent a call or a resource read.
  const script = `require('readline').createInterface({ input: process.stdin }).on('line', (l) => {
    const m = JSON.parse(l);
    const out = (result) => process.stdout.write(JSON.stringify({ jsonrpc: '2.0', id: m.id, result }) + '\\n');
    if (m.method === 'initialize') return out({ protocolVersion: m.params.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: 'x', version: '1' } });
    if (m.method === 'tools/list') return out({ tools: [{ name: 'echo', inputSchema: { type: 'object' } }] });
    if (m.method === 'tools/call' || m.method === 'resources/read') process.exit(0);
  });`;

  test.each([
    ['tools/call', { name: 'echo', arguments: {} }],
    ['resources/read', { uri: 'x://cfg' }],
  ])(
    '%s: the server exits while it has the request; the client gets -32603',
    async (method, params) => {
      const audit = memoryAudit();
      const proxy = inProcessProxy(createGuard({ policy: everything, audit }), {
        command: process.execPath,
        args: ['-e', script],
        server: 'mcp',
      });
      closers.push(proxy.close);
      await initialize(proxy);
      proxy.send({ jsonrpc: '2.0', id: 1, method, params });
      expect(await proxy.done).toBe(0);
      expect((await proxy.answer(1)).error).toEqual({
        code: -32603,
        message: 'toolgate: the MCP server has exited',
      });
      expect(proxy.messages().filter((message) => message.id === 1)).toHaveLength(1);
      expect(audit.events.filter((event) => event.type === 'result').map((event) => event.outcome)).toEqual([
        'error',
      ]);
    },
    20_000,
  );
});
