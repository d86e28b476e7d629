import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import type { AuditEvent } from '../../src/index.ts';

/** A fresh temp directory, removed after the test. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'toolgate-audit-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/** An Ed25519 key pair. */
export function keyPair(): { privateKey: KeyObject; publicKey: KeyObject; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKey, publicKey, publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

/** A plausible decision event. */
export function decisionEvent(n: number, extra: Record<string, unknown> = {}): AuditEvent {
  return {
    v: 1,
    id: `call-${n}.1`,
    ts: 1_767_225_600_000 + n,
    type: 'decision',
    callId: `call-${n}`,
    tool: n % 2 === 0 ? 'payments.refund' : 'db.query',
    agent: n % 3 === 0 ? 'support-bot' : 'report-bot',
    argsHash: 'a'.repeat(64),
    args: { orderId: `o-${n}`, amount: n },
    decision: n % 5 === 0 ? 'deny' : 'allow',
    policyDecision: n % 5 === 0 ? 'deny' : 'allow',
    rules: ['r1'],
    durationMs: 0.25,
    ...(n % 5 === 0 ? { code: 'DENIED_BY_RULE' } : {}),
    ...extra,
  } as AuditEvent;
}
