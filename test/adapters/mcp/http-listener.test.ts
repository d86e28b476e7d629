// The MCP proxy as a Streamable HTTP endpoint: real SDK v1 clients over HTTP, a real stdio server
// per session, toolgate credentials verified at the door and again by the guard on every call.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type HttpAuthentication,
  type McpHttpProxy,
  serveMcpProxyHttp,
} from '../../../src/adapters/mcp/http-listener.ts';
import { memoryPins } from '../../../src/adapters/mcp/pins.ts';
import type { AccessEvent } from '../../../src/audit/types.ts';
import { redisStore } from '../../../src/backends/redis/index.ts';
import {
  agentRegistry,
  createKeySet,
  generateSigningKey,
  issueCredential,
  verifyCredential,
} from '../../../src/identity/index.ts';
import {
  CredentialError,
  createGuard,
  jsonlAudit,
  memoryAudit,
  memoryStore,
  rules,
  verifyAuditLog,
} from '../../../src/index.ts';
import { newClient, REDIS_URL, redisSkipReason } from '../../store/redis-env.ts';
import { textOf } from './fixtures.ts';

const SERVER = fileURLToPath(new URL('./servers/payment-server.mjs', import.meta.url));
const RUN_PROXY = fileURLToPath(new URL('./servers/run-proxy.ts', import.meta.url));
const PAYMENT_KEY = 'pk_live_5f1c9a8e7d6b4a3f2e1d0c9b';
const dir = mkdtempSync(join(tmpdir(), 'toolgate-http-'));
const auditFile = join(dir, 'audit.jsonl');

const store = memoryStore();
const registry = agentRegistry({ store });
let keys: Awaited<ReturnType<typeof createKeySet>>;
let proxy: McpHttpProxy;
let tg: ReturnType<typeof createGuard>;

async function token(principal: string, tools: string[]) {
  return issueCredential({ keys, registry }, { agent: 'support-bot', principal, tools, audience: 'pay' });
}

async function connect(bearer: string) {
  const transport = new StreamableHTTPClientTransport(new URL(proxy.url), {
    requestInit: { headers: { authorization: `Bearer ${bearer}` } },
  });
  const client = new Client({ name: 'http-test', version: '1.0.0' });
  await client.connect(transport);
  return { client, transport };
}

/** `authenticate` for the listener: a toolgate credential verified, or the reason it is refused. */
function credentialAuthenticator(identity: Parameters<typeof verifyCredential>[0]) {
  return async (bearer: string): Promise<HttpAuthentication> => {
    try {
      const claims = await verifyCredential(identity, bearer);
      return { ok: true, caller: { agent: claims.sub, principal: claims.principal } };
    } catch (error) {
      if (CredentialError.isInstance(error)) return { ok: false, code: error.code, reason: error.message };
      throw error;
    }
  };
}

beforeAll(async () => {
  keys = await createKeySet({ signing: await generateSigningKey({ kid: 'k1' }) });
  await registry.register('support-bot', {
    owner: 'team:support',
    tools: ['payments.*'],
    principals: ['user:*'],
    maxTtl: '1h',
  });
  const identity = { keys, registry, audience: 'pay' };
  tg = createGuard({
    policy: rules([{ id: 'payments', effect: 'allow', tool: 'payments.*' }]),
    audit: jsonlAudit({ path: auditFile }),
    identity,
  });
  proxy = await serveMcpProxyHttp(tg, {
    command: process.execPath,
    args: [SERVER],
    server: 'payments',
    pins: memoryPins(),
    log: () => {},
    authenticate: credentialAuthenticator(identity),
    serverEnv: async () => ({ ...process.env, PAYMENT_KEY }),
  });
}, 30_000);

afterAll(async () => {
  await proxy?.close();
  await tg?.close();
});

describe('mcp-proxy over Streamable HTTP', () => {
  it('a credential scopes every call: its tools, its agent and principal; the server holds the key', async () => {
    const { client } = await connect(await token('user:42', ['payments.charge']));
    const charged = await client.callTool({ name: 'charge', arguments: { cents: 500 } });
    expect(textOf(charged)).toBe(`charged 500 with a key of ${PAYMENT_KEY.length} characters`);
    // The policy allows payments.*, the credential only payments.charge: the two intersect.
    const refund = await client.callTool({ name: 'refund', arguments: { cents: 500 } });
    expect(refund.isError).toBe(true);
    expect(textOf(refund)).toContain('OUT_OF_SCOPE');
    await client.close();
    await tg.flush();
    const records = readFileSync(auditFile, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line).event)
      .filter((event) => event !== undefined);
    const decisions = records.filter((r) => r.type === 'decision');
    expect(decisions.map((d) => [d.tool, d.decision, d.code])).toEqual([
      ['payments.charge', 'allow', undefined],
      ['payments.refund', 'deny', 'OUT_OF_SCOPE'],
    ]);
    // Both records name who called, with which credential, the denied one too.
    for (const decision of decisions)
      expect(decision).toMatchObject({
        agent: 'support-bot',
        principal: 'user:42',
        credentialId: decisions[0].credentialId,
        keyId: 'k1',
      });
    expect(decisions[0].verified).toBe(true);
    expect(readFileSync(auditFile, 'utf8')).not.toContain(PAYMENT_KEY);
    expect((await verifyAuditLog(auditFile)).ok).toBe(true);
  }, 60_000);

  it('refuses at the door: no credential, a forged one, a foreign Host or Origin', async () => {
    const sessions = proxy.sessions;
    const post = (headers: Record<string, string>) =>
      fetch(proxy.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          ...headers,
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: {} }),
      });
    expect((await post({})).status).toBe(401);
    const good = await token('user:42', ['payments.charge']);
    const [head, body, signature] = good.split('.');
    const forged = `${head}.${body}.${signature!.slice(0, -4)}AAAA`;
    const refused = await post({ authorization: `Bearer ${forged}` });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toContain('CREDENTIAL_INVALID');
    expect((await post({ authorization: `Bearer ${good}`, origin: 'http://evil.example' })).status).toBe(403);
    // A page on another name that resolves to 127.0.0.1 (DNS rebinding) sends its own Host
    // (fetch sets Host itself, so node:http sends this one).
    const port = Number(new URL(proxy.url).port);
    const rebound = await new Promise<number | undefined>((resolve, reject) => {
      const request = httpRequest(
        {
          host: '127.0.0.1',
          port,
          path: '/mcp',
          method: 'POST',
          headers: {
            host: `attacker.example:${port}`,
            'content-type': 'application/json',
            authorization: `Bearer ${good}`,
          },
        },
        (response) => {
          response.resume();
          resolve(response.statusCode);
        },
      );
      request.on('error', reject);
      request.end(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: {} }));
    });
    expect(rebound).toBe(403);
    // None of them started a session (a server process).
    expect(proxy.sessions).toBe(sessions);
  });

  it('an idle session ends, and its server with it', async () => {
    const idle = await serveMcpProxyHttp(tg, {
      command: process.execPath,
      args: [SERVER],
      server: 'payments',
      pins: memoryPins(),
      log: () => {},
      // Long enough that a loaded CI host still sends `initialized` before the session idles out.
      sessionIdleMs: 2_000,
      authenticate: async () => ({ ok: true, caller: { agent: 'support-bot', principal: 'user:42' } }),
    });
    try {
      const transport = new StreamableHTTPClientTransport(new URL(idle.url), {
        requestInit: { headers: { authorization: `Bearer ${await token('user:42', ['payments.*'])}` } },
      });
      const client = new Client({ name: 'idle-test', version: '1.0.0' });
      await client.connect(transport);
      expect(idle.sessions).toBe(1);
      for (let waited = 0; idle.sessions > 0 && waited < 15_000; waited += 50)
        await new Promise((resolve) => setTimeout(resolve, 50));
      expect(idle.sessions).toBe(0);
      await client.close();
    } finally {
      await idle.close();
    }
  }, 60_000);

  it('the door records sessions and refusals in the guard trail, never a token or a session id; a spray is counted', async () => {
    const audit = memoryAudit({ limit: 10_000 });
    const identity = { keys, registry, audience: 'pay' };
    const gate = createGuard({
      policy: rules([{ id: 'payments', effect: 'allow', tool: 'payments.*' }]),
      audit,
      identity,
    });
    const lines: string[] = [];
    const door = await serveMcpProxyHttp(gate, {
      command: process.execPath,
      args: [SERVER],
      server: 'payments',
      pins: memoryPins(),
      log: (line) => lines.push(line),
      authenticate: credentialAuthenticator(identity),
    });
    const post = (headers: Record<string, string>) =>
      fetch(door.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          ...headers,
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
      });
    const accessEvents = () => audit.events.filter((event): event is AccessEvent => event.type === 'access');
    try {
      const bearer = await token('user:5', ['payments.*']);
      const transport = new StreamableHTTPClientTransport(new URL(door.url), {
        requestInit: { headers: { authorization: `Bearer ${bearer}` } },
      });
      const client = new Client({ name: 'door-test', version: '1.0.0' });
      await client.connect(transport);
      expect(textOf(await client.callTool({ name: 'charge', arguments: { cents: 4 } }))).toContain(
        'charged 4',
      );
      const sessionId = transport.sessionId!;
      const other = await token('user:6', ['payments.*']);
      const refusals: [Record<string, string>, number][] = [
        [{}, 401],
        [{ authorization: 'Bearer forged.not-a.credential' }, 401],
        [{ authorization: `Bearer ${bearer}`, origin: 'http://evil.example' }, 403],
        [{ authorization: `Bearer ${other}`, 'mcp-session-id': sessionId }, 403],
        [{ authorization: `Bearer ${bearer}`, 'mcp-session-id': 'guessed-session-id' }, 404],
      ];
      for (const [headers, status] of refusals) expect((await post(headers)).status).toBe(status);
      await transport.terminateSession();
      await client.close();
      for (let waited = 0; door.sessions > 0 && waited < 15_000; waited += 50)
        await new Promise((resolve) => setTimeout(resolve, 50));
      const recorded = accessEvents();
      expect(recorded.map((event) => [event.action, event.status, event.code])).toEqual([
        ['session-start', undefined, undefined],
        ['refused', 401, 'NO_CREDENTIAL'],
        ['refused', 401, expect.stringMatching(/^CREDENTIAL_/)],
        ['refused', 403, 'FORBIDDEN_HOST'],
        ['refused', 403, 'FOREIGN_SESSION'],
        ['refused', 404, 'UNKNOWN_SESSION'],
        ['session-end', undefined, undefined],
      ]);
      expect(recorded[0]).toMatchObject({
        door: 'mcp-http',
        server: 'payments',
        agent: 'support-bot',
        principal: 'user:5',
      });
      expect(recorded[4]).toMatchObject({ agent: 'support-bot', principal: 'user:6' });
      expect(recorded[6]!.durationMs).toBeGreaterThanOrEqual(0);
      // The calls of the session are in the same trail; no record holds a credential or the session id.
      expect(audit.events.some((event) => event.type === 'result' && event.tool === 'payments.charge')).toBe(
        true,
      );
      const text = JSON.stringify(audit.events);
      for (const secret of [bearer, other, sessionId]) expect(text).not.toContain(secret);
      expect(
        lines.some((line) => line.includes('refused 403 FOREIGN_SESSION (support-bot for user:6)')),
      ).toBe(true);

      // A spray of forged credentials: every refusal counted, at most 20 a second recorded one by one.
      const spray = 100;
      const answers = await Promise.all(
        Array.from({ length: spray }, (_, i) => post({ authorization: `Bearer forged.${i}.x` })),
      );
      expect(answers.every((answer) => answer.status === 401)).toBe(true);
      const counted = () => {
        const refused = accessEvents().filter((event) => event.action === 'refused');
        return {
          one: refused.filter((event) => event.code !== 'SUPPRESSED').length,
          suppressed: refused.reduce((sum, event) => sum + (event.suppressed ?? 0), 0),
        };
      };
      for (
        let waited = 0;
        counted().one + counted().suppressed < refusals.length + spray && waited < 15_000;
        waited += 50
      )
        await new Promise((resolve) => setTimeout(resolve, 50));
      const { one, suppressed } = counted();
      expect(one + suppressed).toBe(refusals.length + spray);
      expect(suppressed).toBeGreaterThan(0);
      const perSecond = new Map<number, number>();
      for (const event of accessEvents())
        if (event.action === 'refused' && event.code !== 'SUPPRESSED')
          perSecond.set(Math.floor(event.ts / 1000), (perSecond.get(Math.floor(event.ts / 1000)) ?? 0) + 1);
      // Windows start at a refusal, not on a second boundary: two calendar seconds hold at most 40.
      expect(Math.max(...perSecond.values())).toBeLessThanOrEqual(40);
    } finally {
      await door.close();
      await gate.close();
    }
  }, 60_000);

  it('an authenticate that throws or answers oddly refuses with 500, starts no session and is recorded', async () => {
    const audit = memoryAudit();
    const gate = createGuard({ policy: rules([{ id: 'p', effect: 'allow', tool: 'payments.*' }]), audit });
    const answers: (() => Promise<unknown>)[] = [
      async () => {
        throw new Error('directory down');
      },
      async () => ({ ok: true }),
      async () => ({ ok: true, caller: { agent: 7, principal: 'user:1' } }),
      async () => undefined,
    ];
    let next = 0;
    const door = await serveMcpProxyHttp(gate, {
      command: process.execPath,
      args: [SERVER],
      server: 'payments',
      pins: memoryPins(),
      log: () => {},
      authenticate: () => answers[next++]!() as Promise<HttpAuthentication>,
    });
    try {
      for (let i = 0; i < answers.length; i++) {
        const answer = await fetch(door.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: 'Bearer some.token.here' },
          body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: {} }),
        });
        expect(answer.status).toBe(500);
      }
      expect(door.sessions).toBe(0);
      const refused = audit.events.filter((event): event is AccessEvent => event.type === 'access');
      expect(refused.map((event) => [event.action, event.status, event.code])).toEqual(
        answers.map(() => ['refused', 500, 'AUTHENTICATE_FAILED']),
      );
      expect(refused[0]!.reason).toContain('directory down');
    } finally {
      await door.close();
      await gate.close();
    }
  });

  it('a session belongs to its caller; a revoked credential is refused on its next call', async () => {
    const first = await token('user:7', ['payments.*']);
    const { client, transport } = await connect(first);
    expect(textOf(await client.callTool({ name: 'charge', arguments: { cents: 1 } }))).toContain('charged 1');
    // Another principal's credential cannot use this session.
    const other = await token('user:8', ['payments.*']);
    const hijack = await fetch(proxy.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        authorization: `Bearer ${other}`,
        'mcp-session-id': transport.sessionId!,
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 99, method: 'tools/list', params: {} }),
    });
    expect(hijack.status).toBe(403);
    const claims = await verifyCredential({ keys, registry, audience: 'pay' }, first);
    await registry.revokeCredential(claims.jti);
    await expect(client.callTool({ name: 'charge', arguments: { cents: 2 } })).rejects.toThrow(
      /401|CREDENTIAL_REVOKED/,
    );
    await client.close().catch(() => undefined);
  }, 60_000);
});

const skipRedis = await redisSkipReason();

describe.skipIf(skipRedis !== undefined)(
  'toolgate mcp-proxy --listen (a real process, Redis registry)',
  () => {
    it('serves a credential-scoped session whose server gets its key from the secrets directory', async () => {
      const work = mkdtempSync(join(tmpdir(), 'toolgate-listen-'));
      const cliKeys = await createKeySet({ signing: await generateSigningKey({ kid: 'cli-1' }) });
      writeFileSync(join(work, 'jwks.json'), JSON.stringify(cliKeys.jwks()));
      writeFileSync(
        join(work, 'policy.json'),
        JSON.stringify({ rules: [{ id: 'pay', effect: 'allow', tool: 'payments.*' }] }),
      );
      mkdirSync(join(work, 'secrets'), { mode: 0o700 });
      writeFileSync(join(work, 'secrets', 'stripe'), PAYMENT_KEY, { mode: 0o600 });
      const client = newClient();
      const redisRegistry = agentRegistry({ store: redisStore({ client }) });
      const agent = `http-cli-${Date.now().toString(36)}`;
      await redisRegistry.register(agent, {
        owner: 'team:test',
        tools: ['payments.*'],
        principals: ['user:*'],
        maxTtl: '1h',
      });
      const bearer = await issueCredential(
        { keys: cliKeys, registry: redisRegistry },
        { agent, principal: 'user:1', tools: ['payments.charge', 'payments.debug'], audience: 'pay' },
      );
      const cliAudit = join(work, 'audit.jsonl');
      const child = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          RUN_PROXY,
          '--policy',
          join(work, 'policy.json'),
          '--name',
          'payments',
          '--listen',
          '127.0.0.1:0',
          '--keys',
          join(work, 'jwks.json'),
          '--store',
          REDIS_URL,
          '--audience',
          'pay',
          '--server-secret',
          'PAYMENT_KEY=stripe',
          '--secrets-dir',
          join(work, 'secrets'),
          '--audit',
          cliAudit,
          '--',
          process.execPath,
          SERVER,
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      try {
        let stderr = '';
        const url = await new Promise<string>((resolve, reject) => {
          child.stderr.on('data', (chunk: Buffer) => {
            stderr += chunk.toString('utf8');
            const match = /listening on (http:\/\/\S+)/.exec(stderr);
            if (match !== null) resolve(match[1]!);
          });
          child.once('exit', (code) => reject(new Error(`the proxy exited (${code}): ${stderr}`)));
        });
        const transport = new StreamableHTTPClientTransport(new URL(url), {
          requestInit: { headers: { authorization: `Bearer ${bearer}` } },
        });
        const mcp = new Client({ name: 'cli-test', version: '1.0.0' });
        await mcp.connect(transport);
        const charged = await mcp.callTool({ name: 'charge', arguments: { cents: 3 } });
        expect(textOf(charged)).toBe(`charged 3 with a key of ${PAYMENT_KEY.length} characters`);
        const refund = await mcp.callTool({ name: 'refund', arguments: { cents: 3 } });
        expect(textOf(refund)).toContain('OUT_OF_SCOPE');
        // The key the proxy handed the server never comes back, in any form (before: it did).
        const leaked = JSON.stringify(await mcp.callTool({ name: 'debug', arguments: {} }));
        expect(leaked).toContain('[secret:stripe]');
        expect(leaked).not.toContain(PAYMENT_KEY);
        expect(leaked).not.toContain(Buffer.from(PAYMENT_KEY).toString('base64'));
        await mcp.close();
        const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        expect(await exited).toBe(0);
        const log = readFileSync(cliAudit, 'utf8');
        expect(log).not.toContain(PAYMENT_KEY);
        expect(log).not.toContain(Buffer.from(PAYMENT_KEY).toString('base64'));
        expect((await verifyAuditLog(cliAudit)).ok).toBe(true);
        expect(log).toContain(`"agent":"${agent}"`);
        // The session itself is in the same chained trail, its credential not.
        expect(log).toMatch(/"action":"session-start"[^\n]*"type":"access"/);
        expect(log).toMatch(/"action":"session-end"[^\n]*"type":"access"/);
        expect(log).not.toContain(bearer);
      } finally {
        child.kill('SIGKILL');
        await redisRegistry.revoke(agent).catch(() => undefined);
        await client.quit();
      }
    }, 90_000);
  },
);
