import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { guardMcpClient, guardMcpServer } from '../../../src/adapters/mcp/index.ts';
import { runAdapterScenarios, type ScenarioCall, type ScenarioSetup } from '../scenarios.ts';

/** An MCP server exposing the scenario tools as they are (the scenario tools' own spies record runs). */
function scenarioServer(setup: ScenarioSetup): McpServer {
  const server = new McpServer({ name: 'scenarios', version: '1.0.0' });
  for (const tool of setup.tools) {
    server.registerTool(
      tool.name,
      { description: tool.description, inputSchema: tool.schema.shape },
      async (args, extra) => {
        const value = await tool.execute(args as never, { signal: extra.signal });
        return {
          content: [{ type: 'text', text: typeof value === 'string' ? value : JSON.stringify(value) }],
        };
      },
    );
  }
  return server;
}

async function callThrough(server: McpServer, call: ScenarioCall, guardClient?: ScenarioSetup) {
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'scenario-client', version: '1.0.0' });
  await server.connect(serverSide);
  await client.connect(clientSide);
  try {
    const params = { name: call.tool, arguments: call.args };
    const options = call.signal === undefined ? {} : { signal: call.signal };
    const result =
      guardClient === undefined
        ? await client.callTool(params, undefined, options)
        : await guardMcpClient(client, guardClient.tg).callTool(params, undefined, options);
    const content = (result as { content: { text?: string }[] }).content;
    return { modelSaw: content.map((block) => block.text ?? '').join('\n') };
  } catch (error) {
    return { error };
  } finally {
    await client.close();
  }
}

runAdapterScenarios({
  name: 'mcp guardMcpServer',
  contextFunction: true,
  run: (setup, call) =>
    callThrough(
      guardMcpServer(scenarioServer(setup), setup.tg, {
        context: (setup.contextFunction ?? setup.context) as never,
      }),
      call,
    ),
});

runAdapterScenarios({
  name: 'mcp guardMcpClient',
  run: (setup, call) => callThrough(scenarioServer(setup), call, setup),
});
