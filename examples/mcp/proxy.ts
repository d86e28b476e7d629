// `toolgate mcp-proxy` guards any stdio MCP server without changing it: the MCP client starts the
// proxy instead of the server. Here a client starts `toolgate mcp-proxy --policy … -- <server>`.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

const dir = mkdtempSync(join(tmpdir(), 'toolgate-mcp-example-'));
const policy = join(dir, 'policy.json');
writeFileSync(
  policy,
  JSON.stringify({
    rules: [
      { id: 'reads', effect: 'allow', tool: 'files.read_file' },
      { id: 'no-deletes', effect: 'deny', tool: 'files.delete_*', reason: 'deleting files is not allowed' },
    ],
  }),
);
const pins = join(dir, 'pins.json');
const server = fileURLToPath(new URL('./_files-server.ts', import.meta.url));
const cli = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

// Installed, this is: toolgate mcp-proxy --policy policy.json --name files --pins pins.json -- <server command>
const transport = new StdioClientTransport({
  command: process.execPath,
  args: [
    '--import',
    'tsx',
    cli,
    'mcp-proxy',
    '--policy',
    policy,
    '--name',
    'files',
    '--pins',
    pins,
    '--agent',
    'desktop-assistant',
    '--',
    process.execPath,
    '--import',
    'tsx',
    server,
  ],
  stderr: 'pipe',
});
const client = new Client({ name: 'example-host', version: '1.0.0' });
await client.connect(transport);

console.log('tools:', (await client.listTools()).tools.map((tool) => tool.name).join(', '));
for (const [name, args] of [
  ['read_file', { path: '/srv/notes.txt' }],
  ['delete_file', { path: '/srv/notes.txt' }],
  ['read_file', { path: '/srv/notes.txt', recursive: true }],
] as const) {
  const result = await client.callTool({ name, arguments: args });
  const text = (result.content as { text?: string }[])[0]?.text;
  console.log(`${name.padEnd(12)} ${result.isError ? 'ERROR' : 'ok   '} ${text}`);
}
await client.close();
console.log('pinned tools:', Object.keys(JSON.parse(readFileSync(pins, 'utf8')).servers.files).join(', '));
rmSync(dir, { recursive: true, force: true });
