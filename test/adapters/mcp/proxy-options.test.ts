import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, afterEach, describe, expect, test, vi } from 'vitest';
import { run as approvals } from '../../../src/cli/approvals.ts';
import { run as audit } from '../../../src/cli/audit.ts';
import { run as proxy } from '../../../src/cli/mcp-proxy.ts';
import { auditLogFiles } from '../../../src/index.ts';
import { textOf } from './fixtures.ts';
import { proxyClient } from './proxy-client.ts';

const SECRET = 'proxy-queue-secret-that-is-32-bytes-long';
const dir = mkdtempSync(join(tmpdir(), 'toolgate-proxy-options-'));
const policyFile = join(dir, 'policy.json');
writeFileSync(
  policyFile,
  JSON.stringify({
    rules: [
      { id: 'echo', effect: 'allow', tool: 'demo.echo' },
      { id: 'refunds', effect: 'ask', tool: 'demo.refund', reason: 'refunds need a human' },
    ],
  }),
);
const clients: Client[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const client of clients.splice(0)) await client.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function connect(flags: string[], env: Record<string, string> = {}) {
  const connected = await proxyClient(policyFile, flags, { env });
  clients.push(connected.client);
  return connected;
}

async function quietly(command: (argv: string[]) => Promise<number>, argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(console, 'log').mockImplementation(
    (...args: unknown[]) => void out.push(args.map(String).join(' ')),
  );
  vi.spyOn(console, 'error').mockImplementation(
    (...args: unknown[]) => void err.push(args.map(String).join(' ')),
  );
  try {
    return { code: await command(argv), out: out.join('\n'), err: err.join('\n') };
  } finally {
    vi.restoreAllMocks();
  }
}

describe('toolgate mcp-proxy --audit', () => {
  test('writes the hash-chained log: signed, anchored, rotated, fail-closed, and audit verify accepts it', async () => {
    const logDir = join(dir, 'signed');
    mkdirSync(logDir);
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    writeFileSync(join(logDir, 'k1.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(join(logDir, 'k1.pub.pem'), publicKey.export({ type: 'spki', format: 'pem' }));
    const log = join(logDir, 'audit.jsonl');
    const anchor = join(logDir, 'anchor.jsonl');
    const { client } = await connect([
      '--audit',
      log,
      '--audit-key',
      `k1=${join(logDir, 'k1.pem')}`,
      '--audit-anchor',
      anchor,
      '--audit-rotate',
      '2KiB',
      '--audit-mode',
      'fail-closed',
    ]);
    for (let i = 0; i < 6; i++)
      expect(textOf(await client.callTool({ name: 'echo', arguments: { message: `m${i}` } }))).toBe(
        `echo: m${i}`,
      );
    await client.close();
    expect(auditLogFiles(log).length).toBeGreaterThan(1);
    const verified = await quietly(audit, [
      'verify',
      log,
      '--key',
      `k1=${join(logDir, 'k1.pub.pem')}`,
      '--anchor',
      anchor,
    ]);
    expect(verified).toMatchObject({ code: 0 });
    expect(verified.out).toMatch(/✓ ok: \d+ records \(12 events, [1-9]\d* signed checkpoints\)/);
    const tail = await quietly(audit, ['tail', log, '-n', '2']);
    expect(tail.code).toBe(0);
    expect(tail.out).toMatch(/result\s+ok\s+demo\.echo/);
  }, 120_000);

  test('refuses to append to a file that is not a toolgate log, and flags that need a file', async () => {
    const plain = join(dir, 'plain.jsonl');
    writeFileSync(plain, '{"type":"decision","tool":"demo.echo"}\n');
    const refused = await quietly(proxy, ['--policy', policyFile, '--audit', plain, '--', 'node']);
    expect(refused.code).toBe(3);
    expect(refused.err).toMatch(
      /^toolgate mcp-proxy: --audit: .*plain\.jsonl is not a toolgate audit log.*move it away/,
    );
    expect(readFileSync(plain, 'utf8')).toBe('{"type":"decision","tool":"demo.echo"}\n');
    const usage: [string[], RegExp][] = [
      [['--audit-key', 'k1=x.pem'], /--audit-key needs --audit <file>/],
      [['--audit', '-', '--audit-mode', 'fail-closed'], /--audit-mode needs --audit <file>/],
      [['--audit', join(dir, 'a.jsonl'), '--audit-mode', 'always'], /--audit-mode must be/],
      [['--audit', join(dir, 'a.jsonl'), '--audit-rotate', 'big'], /--audit-rotate takes a size/],
      [['--audit', join(dir, 'a.jsonl'), '--audit-anchor', 'x'], /--audit-anchor needs --audit-key/],
      [
        ['--audit', join(dir, 'a.jsonl'), '--audit-key', 'nokey'],
        /--audit-key takes <id>=<private key file>/,
      ],
    ];
    for (const [flags, message] of usage) {
      const result = await quietly(proxy, ['--policy', policyFile, ...flags, '--', 'node']);
      expect([flags, result.code]).toEqual([flags, 2]);
      expect(result.err.split('\n')[0]).toMatch(message);
    }
    const missingKey = await quietly(proxy, [
      '--policy',
      policyFile,
      '--audit',
      join(dir, 'b.jsonl'),
      '--audit-key',
      `k1=${join(dir, 'missing.pem')}`,
      '--',
      'node',
    ]);
    expect(missingKey.code).toBe(3);
    expect(missingKey.err).toMatch(/cannot read .*missing\.pem: no such file/);
  });
});

describe('toolgate mcp-proxy --approve queue', () => {
  test('a person answers from another terminal with toolgate approvals, no Redis', async () => {
    const approvalsDir = join(dir, 'approvals');
    const { client, stderr } = await connect(['--approve', 'queue', '--approvals-dir', approvalsDir], {
      TOOLGATE_APPROVAL_SECRET: SECRET,
    });
    const answer = async (verb: 'approve' | 'deny', extra: string[]) => {
      let id: string | undefined;
      while (id === undefined) {
        id = /waits for approval (\S+)/.exec(
          stderr()
            .split('\n')
            .filter((line) => line.includes('waits'))
            .at(-1) ?? '',
        )?.[1];
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const lines: string[] = [];
      const code = await approvals([verb, id, '--dir', approvalsDir, ...extra], {
        secret: SECRET,
        stdout: (line) => lines.push(line),
        stderr: (line) => lines.push(line),
      });
      expect([code, lines]).toEqual([0, [`${verb === 'approve' ? 'approved' : 'denied'} ${id} as user:7`]]);
    };
    const approved = client.callTool({ name: 'refund', arguments: { orderId: 'o-1', amount: 40 } });
    await answer('approve', ['--as', 'user:7']);
    expect(textOf(await approved)).toBe('refunded 40 on o-1');
    expect(stderr()).toMatch(
      /demo\.refund waits for approval \S+ \(refunds need a human\); answer with: toolgate approvals approve \S+ --dir /,
    );
    await waitUntil(() => (stderr().match(/waits for approval/g) ?? []).length === 1);
    const denied = client.callTool({ name: 'refund', arguments: { orderId: 'o-2', amount: 400 } });
    await waitUntil(() => (stderr().match(/waits for approval/g) ?? []).length === 2);
    await answer('deny', ['--as', 'user:7', '--reason', 'too much']);
    const result = await denied;
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/APPROVAL_DENIED.*too much/);
  }, 120_000);

  test('needs a secret and a place for the queue', async () => {
    const noSecret = await quietly(proxy, [
      '--policy',
      policyFile,
      '--approve',
      'queue',
      '--approvals-dir',
      dir,
      '--',
      'node',
    ]);
    expect(noSecret.code).toBe(2);
    expect(noSecret.err).toMatch(/set TOOLGATE_APPROVAL_SECRET to the approval secret/);
    vi.stubEnv('TOOLGATE_APPROVAL_SECRET', SECRET);
    vi.stubEnv('TOOLGATE_APPROVALS_DIR', '');
    try {
      const nowhere = await quietly(proxy, ['--policy', policyFile, '--approve', 'queue', '--', 'node']);
      expect(nowhere.code).toBe(2);
      expect(nowhere.err).toMatch(/--approve queue needs --approvals-dir <dir>/);
      const stray = await quietly(proxy, ['--policy', policyFile, '--approvals-dir', dir, '--', 'node']);
      expect(stray.code).toBe(2);
      expect(stray.err).toMatch(/need --approve queue/);
    } finally {
      vi.unstubAllEnvs();
    }
  });
});

async function waitUntil(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 20));
}
