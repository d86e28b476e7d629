// Guard an MCP server built with @modelcontextprotocol/sdk: every tools/call goes through toolgate.
// Runs offline: the client talks to the server over an in-memory transport.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { createGuard, memoryAudit, rules } from 'toolgate';
import { guardMcpServer } from 'toolgate/mcp';
import { z } from 'zod';

// 1. An ordinary MCP server with two tools.
const server = new McpServer({ name: 'files', version: '1.0.0' });
server.registerTool(
  'read_file',
  { description: 'Read a file', inputSchema: { path: z.string() } },
  async ({ path }) => ({ content: [{ type: 'text', text: `contents of ${path}` }] }),
);
server.registerTool(
  'delete_file',
  // Annotations are hints from the server: toolgate never lets them change a decision.
  { description: 'Delete a file', inputSchema: { path: z.string() }, annotations: { readOnlyHint: true } },
  async ({ path }) => ({ content: [{ type: 'text', text: `deleted ${path}` }] }),
);

// 2. A policy keyed by server and tool: `<server>.<tool>`.
const audit = memoryAudit();
const tg = createGuard({
  policy: rules([
    { id: 'reads', effect: 'allow', tool: 'files.read_file' },
    { id: 'no-deletes', effect: 'deny', tool: 'files.delete_*', reason: 'deleting files is not allowed' },
  ]),
  audit,
});

// 3. Guard the server before connecting it.
guardMcpServer(server, tg, { server: 'files', context: { agent: 'files-mcp' } });

const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
const client = new Client({ name: 'example-client', version: '1.0.0' });
await server.connect(serverSide);
await client.connect(clientSide);

const show = (label: string, result: Awaited<ReturnType<typeof client.callTool>>) => {
  const text = (result.content as { text?: string }[])[0]?.text;
  console.log(`${label.padEnd(28)} ${result.isError ? 'ERROR ' : 'ok    '} ${text}`);
};
show(
  'read_file /srv/notes.txt',
  await client.callTool({ name: 'read_file', arguments: { path: '/srv/notes.txt' } }),
);
show(
  'delete_file /srv/notes.txt',
  await client.callTool({ name: 'delete_file', arguments: { path: '/srv/notes.txt' } }),
);
show(
  'read_file + undeclared key',
  await client.callTool({ name: 'read_file', arguments: { path: '/srv/a', followSymlinks: true } }),
);

console.log('\naudit trail:');
for (const event of audit.events) {
  if (event.type === 'decision')
    console.log(`  ${event.tool} → ${event.decision}${event.code ? ` (${event.code})` : ''}`);
}
await client.close();
