import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, test } from 'vitest';
import { filePins, runMcpProxy } from '../../../src/adapters/mcp/index.ts';
import { createGuard, rules, verifyAuditLog } from '../../../src/index.ts';
import { textOf } from './fixtures.ts';
import { DEMO_SERVER, proxyClient, tempPolicy } from './proxy-client.ts';
import { inProcessProxy } from './raw-client.ts';
import { streamPair } from './stream-transport.ts';

const temp = tempPolicy('toolgate-mcp-proxy-', [
  { id: 'echo', effect: 'allow', tool: 'demo.echo' },
  { id: 'login', effect: 'allow', tool: 'demo.login' },
  { id: 'refunds', effect: 'ask', tool: 'demo.refund', reason: 'refunds need a human' },
  { id: 'no-deletes', effect: 'deny', tool: 'demo.delete_*', reason: 'deleting files is not allowed' },
]);
const clients: Client[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) await client.close();
});

async function connect(
  flags: string[],
  options: { env?: Record<string, string>; elicit?: (message: string) => boolean } = {},
) {
  const connected = await proxyClient(temp.policyFile, flags, options);
  clients.push(connected.client);
  return connected;
}

describe('toolgate mcp-proxy (stdio, real processes)', () => {
  test('allows, denies by rule and by default, refuses undeclared keys, ignores annotations', async () => {
    const auditFile = join(temp.dir, 'audit-1.jsonl');
    const { client, stderr } = await connect(['--audit', auditFile]);
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual(['delete_file', 'echo', 'login', 'refund']);
    expect(tools.find((tool) => tool.name === 'echo')?._meta?.['toolgate/pin']).toMatch(/^[0-9a-f]{64}$/);

    expect(textOf(await client.callTool({ name: 'echo', arguments: { message: 'hi' } }))).toBe('echo: hi');
    // readOnlyHint: true does not make delete_file any safer.
    const del = await client.callTool({ name: 'delete_file', arguments: { path: '/etc/passwd' } });
    expect(del.isError).toBe(true);
    expect(textOf(del)).toBe(
      'toolgate denied this call to demo.delete_file (DENIED_BY_RULE): deleting files is not allowed',
    );
    const extra = await client.callTool({ name: 'echo', arguments: { message: 'x', sudo: true } });
    expect(extra.isError).toBe(true);
    expect(textOf(extra)).toContain('undeclared argument "sudo"');
    // No approver configured: ask fails closed.
    const refund = await client.callTool({ name: 'refund', arguments: { orderId: 'o-1', amount: 5 } });
    expect(textOf(refund)).toContain('NO_APPROVER');
    const secret = 'hunter2-Sup3rS3cret';
    const allowed = await client.callTool({ name: 'login', arguments: { user: 'ann', password: secret } });
    expect(textOf(allowed)).toBe('welcome ann');
    const login = await client.callTool({
      name: 'login',
      arguments: { user: 'ann', password: secret, token: secret },
    });
    expect(textOf(login)).toContain('undeclared argument "token"');
    expect(textOf(login)).not.toContain(secret);

    await client.close();
    // The proxy's log is the hash-chained one: it verifies, and its records hold the events.
    expect(await verifyAuditLog(auditFile)).toMatchObject({ ok: true, events: 8 });
    const events = readFileSync(auditFile, 'utf8')
      .trim()
      .split('\n')
      .filter((line) => line.startsWith('{"event":'))
      .map((line) => JSON.parse(line).event);
    const decisions = events.filter((event) => event.type === 'decision');
    expect(decisions.map((event) => [event.tool, event.decision, event.code])).toEqual([
      ['demo.echo', 'allow', undefined],
      ['demo.delete_file', 'deny', 'DENIED_BY_RULE'],
      ['demo.echo', 'deny', 'INVALID_ARGS'],
      ['demo.refund', 'deny', 'NO_APPROVER'],
      ['demo.login', 'allow', undefined],
      ['demo.login', 'deny', 'INVALID_ARGS'],
    ]);
    // Credentials in arguments reach the server, never the audit trail.
    expect(readFileSync(auditFile, 'utf8')).not.toContain(secret);
    // The server ran only the allowed calls; the proxy's own diagnostics never print arguments.
    expect(stderr()).toContain('demo-server: echo hi');
    expect(stderr()).not.toContain('demo-server: delete');
    expect(stderr()).not.toContain(secret);
  }, 120_000);

  test('ask is answered through MCP elicitation', async () => {
    const asked: string[] = [];
    const { client } = await connect(['--approve', 'elicit'], {
      elicit: (message) => {
        asked.push(message);
        return /"amount":40[,}]/.test(message);
      },
    });
    expect(textOf(await client.callTool({ name: 'refund', arguments: { orderId: 'o-1', amount: 40 } }))).toBe(
      'refunded 40 on o-1',
    );
    const large = await client.callTool({ name: 'refund', arguments: { orderId: 'o-2', amount: 400 } });
    expect(large.isError).toBe(true);
    expect(textOf(large)).toContain('APPROVAL_DENIED');
    expect(asked).toHaveLength(2);
    expect(asked[0]).toContain('Allow demo.refund?');
  }, 120_000);

  test('rug pull: a definition changed after pinning is hidden and denied, and pins persist', async () => {
    const pins = join(temp.dir, 'pins.json');
    const { client, stderr } = await connect(['--pins', pins], { env: { RUG_PULL: '1' } });
    const changed = new Promise<void>((resolve) =>
      client.setNotificationHandler(ToolListChangedNotificationSchema, () => resolve()),
    );
    expect(textOf(await client.callTool({ name: 'echo', arguments: { message: 'a' } }))).toBe('echo: a');
    await changed;
    const after = await client.callTool({ name: 'echo', arguments: { message: 'b' } });
    expect(after.isError).toBe(true);
    expect(textOf(after)).toMatch(/changed since it was pinned.*re-approved/);
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name)).not.toContain('echo');
    expect(stderr()).toContain('demo.echo changed since it was pinned');
    expect(stderr()).not.toContain('demo-server: echo b');
    await client.close();
    const file = JSON.parse(readFileSync(pins, 'utf8'));
    expect(Object.keys(file.servers.demo).sort()).toEqual(['delete_file', 'echo', 'login', 'refund']);
  }, 120_000);
});

describe('runMcpProxy (in process)', () => {
  const tg = () => createGuard({ policy: rules([{ id: 'all', effect: 'allow' }]) });
  const quiet = () => undefined;

  test('exits with the server exit code; passes messages through; nothing unreadable reaches the server', async () => {
    // The "server" echoes every line it receives, so anything that reached it shows up in `lines`.
    const script =
      "process.stdin.on('data', (d) => { process.stdout.write(d); if (String(d).includes('bye')) process.exit(3); });";
    const { input, lines, done } = inProcessProxy(tg(), {
      command: process.execPath,
      args: ['-e', script],
      log: quiet,
    });
    input.write('{"jsonrpc":"2.0","method":"notifications/custom","params":{"a":1}}\n');
    // Lines a laxer JSON parser in the server might still read as a tools/call.
    input.write('not json at all\n');
    input.write(
      '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"rm","arguments":{"n":NaN}}}\n',
    );
    input.write('[{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"rm"}}]\n');
    // tools/call without a usable id: a "notification", or an id of another type.
    input.write('{"jsonrpc":"2.0","method":"tools/call","params":{"name":"rm","arguments":{}}}\n');
    input.write('{"jsonrpc":"2.0","id":null,"method":"tools/call","params":{"name":"rm","arguments":{}}}\n');
    input.write(
      '{"jsonrpc":"2.0","id":{"x":1},"method":"tools/call","params":{"name":"rm","arguments":{}}}\n',
    );
    input.write('{"jsonrpc":"2.0","method":"bye"}\n');
    expect(await done).toBe(3);
    expect(lines).toContain('{"jsonrpc":"2.0","method":"notifications/custom","params":{"a":1}}');
    expect(lines.filter((line) => line.includes('"method":"tools/call"'))).toEqual([]);
    expect(lines.filter((line) => line.includes('NaN') || line.includes('not json'))).toEqual([]);
    const errors = lines.map((line) => JSON.parse(line)).filter((message) => message.error !== undefined);
    expect(errors.map((message) => message.error.message)).toEqual([
      'toolgate: parse error',
      'toolgate: parse error',
      'toolgate: JSON-RPC batches are not supported',
      'toolgate: invalid tools/call request',
      'toolgate: invalid tools/call request',
      'toolgate: invalid tools/call request',
    ]);
  });

  test('reports a missing command as 127 and a killed server as 128 + signal', async () => {
    const missing = await runMcpProxy(tg(), {
      command: join(temp.dir, 'no-such-server'),
      input: new PassThrough(),
      output: new PassThrough(),
      log: quiet,
    });
    expect(missing).toBe(127);
    const killed = await runMcpProxy(tg(), {
      command: process.execPath,
      args: ['-e', "process.kill(process.pid, 'SIGTERM')"],
      input: new PassThrough(),
      output: new PassThrough(),
      log: quiet,
    });
    expect(killed).toBe(128 + 15);
  });

  test('pins persist in a pin file; strict mode, tampering and re-approval', async () => {
    const pins = join(temp.dir, 'pins-in-process.json');
    const session = async (pinning: 'tofu' | 'strict' | 'update') => {
      const { transport, input, output } = streamPair();
      const done = runMcpProxy(tg(), {
        command: process.execPath,
        args: [DEMO_SERVER.path],
        input,
        output,
        log: quiet,
        server: 'demo',
        pins: filePins(pins),
        pinning,
        env: { ...process.env, RUG_PULL: '' },
        exitGraceMs: 2_000,
      });
      const client = new Client({ name: 'in-process', version: '1.0.0' });
      await client.connect(transport);
      const result = await client.callTool({ name: 'echo', arguments: { message: pinning } });
      const { tools } = await client.listTools();
      await client.close();
      await done;
      return { result, names: tools.map((tool) => tool.name) };
    };
    // Strict mode with no pin file: nothing is approved, so everything is hidden and denied.
    const strictEmpty = await session('strict');
    expect(strictEmpty.result.isError).toBe(true);
    expect(textOf(strictEmpty.result)).toContain('is not pinned');
    expect(strictEmpty.names).toEqual([]);
    // Trust on first use writes the pins; strict mode then accepts the same definitions.
    expect(textOf((await session('tofu')).result)).toBe('echo: tofu');
    const file = JSON.parse(readFileSync(pins, 'utf8'));
    expect(file.servers.demo.echo).toMatch(/^[0-9a-f]{64}$/);
    expect(textOf((await session('strict')).result)).toBe('echo: strict');
    // A pin that no longer matches (the server changed between runs) denies and hides the tool.
    file.servers.demo.echo = '0'.repeat(64);
    writeFileSync(pins, JSON.stringify(file));
    const tampered = await session('tofu');
    expect(textOf(tampered.result)).toMatch(/changed since it was pinned/);
    expect(tampered.names).not.toContain('echo');
    // Re-approval after review.
    expect(textOf((await session('update')).result)).toBe('echo: update');
    expect(textOf((await session('strict')).result)).toBe('echo: strict');
  }, 120_000);

  test('closing the client input stops the server', async () => {
    const input = new PassThrough();
    const done = runMcpProxy(tg(), {
      command: process.execPath,
      args: ['-e', 'setInterval(() => {}, 1000)'],
      input,
      output: new PassThrough(),
      log: quiet,
      // Long enough for a loaded machine to schedule the child between SIGTERM and SIGKILL (with
      // 50 ms, CI running three suites at once on two cores saw SIGKILL win).
      exitGraceMs: 1_000,
    });
    input.end();
    expect(await done).toBe(128 + 15);
  });

  test('a tools/call is denied when the server cannot list its tools', async () => {
    // A "server" that answers every request with an error and never runs anything.
    const script = `require('readline').createInterface({ input: process.stdin }).on('line', (l) => {
      const m = JSON.parse(l); if (m.method === 'tools/call') { process.stdout.write('RAN\\n'); return; }
      if (m.id !== undefined) process.stdout.write(JSON.stringify({ jsonrpc: '2.0', id: m.id, error: { code: -1, message: 'nope' } }) + '\\n');
    });`;
    const { input, lines, done, until } = inProcessProxy(tg(), {
      command: process.execPath,
      args: ['-e', script],
      log: quiet,
    });
    input.write('{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{}}}\n');
    await until(() => lines.length > 0);
    input.end();
    await done;
    const response = JSON.parse(lines[0]!);
    expect(response).toMatchObject({ id: 7, result: { isError: true } });
    expect(response.result.content[0].text).toContain('the tool list could not be read');
    expect(lines).not.toContain('RAN');
  });
});
