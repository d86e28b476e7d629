import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, test } from 'vitest';
import { guardMcpClient, guardMcpServer, runMcpProxy } from '../../../src/adapters/mcp/index.ts';
import { createGuard, memoryAudit, rules } from '../../../src/index.ts';
import { connectInMemory, demoServer, textOf } from './fixtures.ts';

const childServer = join(fileURLToPath(new URL('.', import.meta.url)), 'servers', 'demo-server.mjs');
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

/** A policy that would allow anything of the server: only the tool list can refuse a name. */
function guard() {
  const audit = memoryAudit();
  const tg = createGuard({ policy: rules([{ id: 'all-of-demo', effect: 'allow', tool: 'demo.*' }]), audit });
  return { tg, audit };
}

/** Names no server lists: unknown, with an invisible character, not a string, missing. */
const NAMES: { name: unknown; shown: RegExp }[] = [
  { name: 'nope', shown: /does not list a tool named "nope"/ },
  { name: 'echo\u200b', shown: /is not a usable tool name|does not list a tool named "echo\\u\{200b\}"/ },
  { name: 5, shown: /a number as name is not a usable tool name/ },
  { name: undefined, shown: /a missing name is not a usable tool name/ },
];

/** Every unlisted name is denied UNKNOWN_TOOL, recorded once under one name, and never registered. */
async function expectUnknown(
  tg: ReturnType<typeof guard>['tg'],
  audit: ReturnType<typeof guard>['audit'],
  call: (name: unknown) => Promise<unknown>,
) {
  for (const { name, shown } of NAMES) {
    const result = await call(name);
    expect((result as { isError?: boolean }).isError).toBe(true);
    expect(textOf(result)).toMatch(/\(UNKNOWN_TOOL\)/);
    expect(textOf(result)).toMatch(shown);
  }
  const decisions = audit.events.filter((event) => event.type === 'decision');
  expect(decisions.map((event) => [event.tool, event.decision, event.code])).toEqual(
    NAMES.map(() => ['demo.(unlisted)', 'deny', 'UNKNOWN_TOOL']),
  );
  expect(audit.events.filter((event) => event.type === 'result')).toEqual([]);
  expect(await tg.check('demo.nope', {})).toMatchObject({ type: 'deny', code: 'UNKNOWN_TOOL' });
}

describe('a tool the MCP server does not list is denied UNKNOWN_TOOL', () => {
  test('guardMcpServer, over raw JSON-RPC (names the SDK client would not send too)', async () => {
    const executed: string[] = [];
    const { tg, audit } = guard();
    const server = guardMcpServer(demoServer(executed), tg, { server: 'demo' });
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await server.connect(serverSide);
    const responses = new Map<unknown, JSONRPCMessage>();
    clientSide.onmessage = (message) => {
      if ('id' in message) responses.set(message.id, message);
    };
    await clientSide.start();
    closers.push(() => clientSide.close());
    let id = 0;
    await expectUnknown(tg, audit, async (name) => {
      id += 1;
      const params = name === undefined ? { arguments: {} } : { name, arguments: {} };
      await clientSide.send({ jsonrpc: '2.0', id, method: 'tools/call', params } as JSONRPCMessage);
      while (!responses.has(id)) await new Promise((resolve) => setTimeout(resolve, 5));
      return (responses.get(id) as { result: unknown }).result;
    });
    expect(executed).toEqual([]);
  });

  test('guardMcpServer: a tool removed from the server is unknown from then on', async () => {
    const executed: string[] = [];
    const { tg, audit } = guard();
    const server = demoServer(executed);
    const late = server.registerTool('late', {}, async () => {
      executed.push('late');
      return { content: [{ type: 'text', text: 'late ran' }] };
    });
    const client = await connectInMemory(guardMcpServer(server, tg, { server: 'demo' }), (close) =>
      closers.push(close),
    );
    expect(textOf(await client.callTool({ name: 'late', arguments: {} }))).toBe('late ran');
    late.remove();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const removed = await client.callTool({ name: 'late', arguments: {} });
    expect(textOf(removed)).toBe(
      'toolgate denied this call to demo.late (UNKNOWN_TOOL): the server does not list a tool named "late"; it may not be called',
    );
    expect(executed).toEqual(['late']);
    expect(audit.events.filter((event) => event.type === 'decision').map((event) => event.code)).toEqual([
      undefined,
      'UNKNOWN_TOOL',
    ]);
  });

  test('guardMcpClient', async () => {
    const executed: string[] = [];
    const { tg, audit } = guard();
    const client = await connectInMemory(demoServer(executed), (close) => closers.push(close));
    const guarded = guardMcpClient(client, tg, { server: 'demo' });
    await expectUnknown(tg, audit, (name) => guarded.callTool({ name: name as string, arguments: {} }));
    expect(executed).toEqual([]);
  });

  test('runMcpProxy in front of a real stdio server', async () => {
    const { tg, audit } = guard();
    const input = new PassThrough();
    const output = new PassThrough();
    const responses = new Map<unknown, { result: unknown }>();
    let buffered = '';
    output.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        const message = JSON.parse(line) as { id?: unknown; result: unknown };
        if (message.id !== undefined) responses.set(message.id, message);
      }
    });
    const done = runMcpProxy(tg, {
      command: process.execPath,
      args: [childServer],
      server: 'demo',
      input,
      output,
      log: () => undefined,
      exitGraceMs: 2_000,
    });
    closers.push(async () => {
      input.end();
      await done;
    });
    input.write(
      `${JSON.stringify({ jsonrpc: '2.0', id: 'init', method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } })}\n`,
    );
    let id = 0;
    await expectUnknown(tg, audit, async (name) => {
      id += 1;
      const params = name === undefined ? { arguments: {} } : { name, arguments: {} };
      input.write(`${JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params })}\n`);
      while (!responses.has(id)) await new Promise((resolve) => setTimeout(resolve, 5));
      return responses.get(id)!.result;
    });
  }, 60_000);
});
