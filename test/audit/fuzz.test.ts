import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AUDIT_VERIFY_CODES, jsonlAudit, verifyAuditLog } from '../../src/index.ts';
import { decisionEvent, keyPair, tempDir } from './helpers.ts';

const keys = keyPair();

describe('verifyAuditLog under random damage', () => {
  it('any flipped byte is detected with a known code, and verify never throws', async () => {
    const dir = tempDir();
    const path = join(dir, 'audit.jsonl');
    const sink = jsonlAudit({ path, checkpoint: { privateKey: keys.privateKey, keyId: 'k1', every: 7 } });
    for (let i = 1; i <= 30; i++) sink.write(decisionEvent(i));
    await sink.close();
    const original = readFileSync(path);
    const damaged = join(dir, 'damaged.jsonl');
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: original.length - 1 }),
        fc.integer({ min: 1, max: 255 }),
        async (offset, mask) => {
          const bytes = Buffer.from(original);
          bytes[offset] = bytes[offset]! ^ mask;
          writeFileSync(damaged, bytes);
          const result = await verifyAuditLog(damaged, { publicKeys: { k1: keys.publicKey } });
          expect(result.ok).toBe(false);
          if (!result.ok) expect(AUDIT_VERIFY_CODES).toContain(result.code);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('deleting, duplicating or truncating at random never verifies', async () => {
    const dir = tempDir();
    const path = join(dir, 'audit.jsonl');
    const sink = jsonlAudit({ path });
    for (let i = 1; i <= 20; i++) sink.write(decisionEvent(i));
    await sink.close();
    const lines = readFileSync(path, 'utf8').split('\n').slice(0, -1);
    const damaged = join(dir, 'damaged.jsonl');
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.record({ op: fc.constant('delete'), at: fc.nat({ max: lines.length - 2 }) }),
          fc.record({ op: fc.constant('duplicate'), at: fc.nat({ max: lines.length - 1 }) }),
          // Cut inside the last line (a cut at a line boundary is a clean truncation: only an anchor sees it).
          fc.record({
            op: fc.constant('cut'),
            at: fc.integer({ min: 2, max: lines[lines.length - 1]!.length }),
          }),
        ),
        async ({ op, at }) => {
          let text: string;
          if (op === 'delete')
            text = lines
              .filter((_, i) => i !== at)
              .map((l) => `${l}\n`)
              .join('');
          else if (op === 'duplicate')
            text = lines
              .flatMap((l, i) => (i === at ? [l, l] : [l]))
              .map((l) => `${l}\n`)
              .join('');
          else
            text = lines
              .map((l) => `${l}\n`)
              .join('')
              .slice(0, -at);
          writeFileSync(damaged, text);
          const result = await verifyAuditLog(damaged);
          expect(result.ok).toBe(false);
        },
      ),
      { numRuns: 100 },
    );
  });
});
