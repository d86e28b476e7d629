// The adapters against the MCP TypeScript SDK v2 line (@modelcontextprotocol/server and /client 2.x).

import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, InMemoryTransport } from '@modelcontextprotocol/client';
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { McpServer } from '@modelcontextprotocol/server';
import { afterEach, describe, expect, test } from 'vitest';
import { z } from 'zod';
import { guardMcpClient, guardMcpServer, runMcpProxy } from '../../../src/adapters/mcp/index.ts';
import { createGuard, memoryAudit, rules } from '../../../src/index.ts';
import { textOf } from './fixtures.ts';
import { streamPair } from './stream-transport.ts';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

function v2Server(executed: string[]): McpServer {
  const server = new McpServer({ name: 'v2', version: '2.0.0' });
  server.registerTool(
    'echo',
    { description: 'Echo a message', inputSchema: z.object({ message: z.string() }) },
    async ({ message }) => {
      executed.push(`echo:${message}`);
      return { content: [{ type: 'text', text: `echo: ${message}` }] };
    },
  );
  server.registerTool(
    'delete_file',
    {
      description: 'Delete a file',
      inputSchema: z.object({ path: z.string() }),
      annotations: { readOnlyHint: true },
    },
    async ({ path }) => {
      executed.push(`delete:${path}`);
      return { content: [{ type: 'text', text: `deleted ${path}` }] };
    },
  );
  return server;
}

async function connect(server: McpServer) {
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'v2-client', version: '2.0.0' });
  await server.connect(serverSide);
  await client.connect(clientSide);
  closers.push(() => client.close());
  return client;
}

const policy = rules([{ id: 'echo', effect: 'allow', tool: 'v2.echo' }]);

describe('MCP SDK v2', () => {
  test('guardMcpServer guards a v2 McpServer', async () => {
    const executed: string[] = [];
    const audit = memoryAudit();
    const client = await connect(
      guardMcpServer(v2Server(executed), createGuard({ policy, audit }), { server: 'v2' }),
    );
    expect(textOf(await client.callTool({ name: 'echo', arguments: { message: 'hi' } }))).toBe('echo: hi');
    const del = await client.callTool({ name: 'delete_file', arguments: { path: '/x' } });
    expect(del.isError).toBe(true);
    expect(textOf(del)).toContain('NO_MATCHING_RULE');
    const extra = await client.callTool({ name: 'echo', arguments: { message: 'x', admin: true } });
    expect(textOf(extra)).toContain('undeclared argument "admin"');
    expect(executed).toEqual(['echo:hi']);
    expect(audit.events.filter((event) => event.type === 'decision')).toHaveLength(3);
  });

  test('guardMcpClient guards a v2 Client', async () => {
    const executed: string[] = [];
    const client = await connect(v2Server(executed));
    const guarded = guardMcpClient(client, createGuard({ policy }), { server: 'v2' });
    expect(textOf(await guarded.callTool({ name: 'echo', arguments: { message: 'a' } }))).toBe('echo: a');
    expect((await guarded.callTool({ name: 'delete_file', arguments: { path: '/x' } })).isError).toBe(true);
    expect(executed).toEqual(['echo:a']);
  });

  test('runMcpProxy guards a v2 stdio server for a v1 client', async () => {
    const { transport, input, output } = streamPair();
    const done = runMcpProxy(createGuard({ policy }), {
      command: process.execPath,
      args: [join(fileURLToPath(new URL('.', import.meta.url)), 'servers', 'v2-server.mjs')],
      input,
      output,
      server: 'v2',
      log: () => undefined,
      exitGraceMs: 2_000,
    });
    const client = new V1Client({ name: 'v1-client', version: '1.0.0' });
    await client.connect(transport);
    expect((await client.listTools()).tools.map((tool) => tool.name).sort()).toEqual(['delete_file', 'echo']);
    expect(textOf(await client.callTool({ name: 'echo', arguments: { message: 'hi' } }))).toBe('echo: hi');
    const del = await client.callTool({ name: 'delete_file', arguments: { path: '/x' } });
    expect(textOf(del)).toContain('NO_MATCHING_RULE');
    await client.close();
    expect(typeof (await done)).toBe('number');
  }, 120_000);
});
