import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll } from 'vitest';

const here = fileURLToPath(new URL('.', import.meta.url));
const runProxy = join(here, 'servers', 'run-proxy.ts');

/** The demo server (servers/demo-server.mjs), proxied as `demo`. */
export const DEMO_SERVER: ProxiedServer = { path: join(here, 'servers', 'demo-server.mjs'), name: 'demo' };
/** The malicious server (servers/evil-server.mjs), proxied under the default name (`mcp`). */
export const EVIL_SERVER: ProxiedServer = { path: join(here, 'servers', 'evil-server.mjs') };

/** A stdio server script behind the proxy, and the `--name` it is proxied under (none: the default). */
export interface ProxiedServer {
  readonly path: string;
  readonly name?: string;
}

/**
 * A temporary folder with `policy.json` holding `rules`, made before the test file's tests and
 * removed after them. Read its fields inside tests (they are set by then).
 */
export function tempPolicy(prefix: string, rules: object[]): { dir: string; policyFile: string } {
  const paths = { dir: '', policyFile: '' };
  beforeAll(() => {
    paths.dir = mkdtempSync(join(tmpdir(), prefix));
    paths.policyFile = join(paths.dir, 'policy.json');
    writeFileSync(paths.policyFile, JSON.stringify({ rules }));
  });
  afterAll(() => rmSync(paths.dir, { recursive: true, force: true }));
  return paths;
}

/** The node arguments that run `toolgate mcp-proxy` from source in front of `server`. */
export function proxyArgs(
  policyFile: string,
  flags: string[],
  server: ProxiedServer = DEMO_SERVER,
): string[] {
  return [
    '--import',
    'tsx',
    runProxy,
    '--policy',
    policyFile,
    ...(server.name === undefined ? [] : ['--name', server.name]),
    ...flags,
    '--',
    process.execPath,
    server.path,
  ];
}

/**
 * An MCP client → `toolgate mcp-proxy` → a server (the demo server unless told), all real processes
 * over stdio. The caller closes the client. `elicit` answers the proxy's approval forms (and is
 * told the id of the form's request).
 */
export async function proxyClient(
  policyFile: string,
  flags: string[],
  options: {
    env?: Record<string, string>;
    server?: ProxiedServer;
    clientName?: string;
    elicit?: (message: string, requestId: string) => boolean | Promise<boolean>;
  } = {},
): Promise<{ client: Client; stderr: () => string }> {
  const stderr: string[] = [];
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: proxyArgs(policyFile, flags, options.server),
    env: { ...(process.env as Record<string, string>), ...options.env },
    stderr: 'pipe',
  });
  transport.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString('utf8')));
  const client = new Client(
    { name: options.clientName ?? 'proxy-test', version: '1.0.0' },
    options.elicit === undefined ? {} : { capabilities: { elicitation: {} } },
  );
  const elicit = options.elicit;
  if (elicit !== undefined) {
    client.setRequestHandler(ElicitRequestSchema, async (request, extra) => ({
      action: 'accept',
      content: { approve: await elicit(String(request.params.message), String(extra.requestId)) },
    }));
  }
  await client.connect(transport);
  return { client, stderr: () => stderr.join('') };
}
