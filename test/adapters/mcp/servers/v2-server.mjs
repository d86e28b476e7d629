// A stdio MCP server on the SDK v2 line, for the proxy tests.
import { McpServer } from '@modelcontextprotocol/server';
import { StdioServerTransport } from '@modelcontextprotocol/server/stdio';
import { z } from 'zod';

const server = new McpServer({ name: 'v2', version: '2.0.0' });
server.registerTool(
  'echo',
  { description: 'Echo a message', inputSchema: z.object({ message: z.string() }) },
  async ({ message }) => {
    process.stderr.write(`v2-server: echo ${message}\n`);
    return { content: [{ type: 'text', text: `echo: ${message}` }] };
  },
);
server.registerTool(
  'delete_file',
  { description: 'Delete a file', inputSchema: z.object({ path: z.string() }) },
  async ({ path }) => {
    process.stderr.write(`v2-server: delete ${path}\n`);
    return { content: [{ type: 'text', text: `deleted ${path}` }] };
  },
);
await server.connect(new StdioServerTransport());
