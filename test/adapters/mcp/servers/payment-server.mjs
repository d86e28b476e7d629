// A real stdio MCP server (SDK v1) for the HTTP listener tests: `charge` uses PAYMENT_KEY from its
// environment (the proxy puts it there from a secret provider) and says only how long it is;
// `debug` leaks it, which the proxy must scrub.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';

const server = new McpServer({ name: 'payments', version: '1.0.0' });
server.registerTool(
  'charge',
  { description: 'Charge an order', inputSchema: { cents: z.number() } },
  async ({ cents }) => {
    const key = process.env.PAYMENT_KEY ?? '';
    return { content: [{ type: 'text', text: `charged ${cents} with a key of ${key.length} characters` }] };
  },
);
// A careless tool: it echoes its key, raw and in base64, in a result and in an error.
server.registerTool('debug', { description: 'Show the configuration', inputSchema: {} }, async () => {
  const key = process.env.PAYMENT_KEY ?? '';
  return {
    content: [{ type: 'text', text: `key=${key} (${Buffer.from(key).toString('base64')})` }],
    isError: key.length > 0,
  };
});
server.registerTool(
  'refund',
  { description: 'Refund an order', inputSchema: { cents: z.number() } },
  async ({ cents }) => ({ content: [{ type: 'text', text: `refunded ${cents}` }] }),
);
await server.connect(new StdioServerTransport());
