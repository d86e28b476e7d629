// The core as a user imports it from the installed package.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createGuard, jsonlAudit, memoryAudit, rules, ToolDeniedError } from 'toolgate';
import { scriptedApprover } from 'toolgate/testing';

const policy = rules([
  { id: 'read', effect: 'allow', tool: 'db.read' },
  { id: 'refund', effect: 'ask', tool: 'payments.refund' },
]);

test('allow, deny by default, ask answered by an approver', async () => {
  const audit = memoryAudit();
  const tg = createGuard({ policy, audit, approver: scriptedApprover(['approve', 'deny']) });
  assert.equal(await tg.guard(() => 'rows', { name: 'db.read' })({}), 'rows');
  await assert.rejects(tg.guard(() => 'x', { name: 'db.drop' })({}), (error) =>
    ToolDeniedError.isInstance(error),
  );
  const refund = tg.guard(() => 'refunded', { name: 'payments.refund' });
  assert.equal(await refund({ amount: 5 }), 'refunded');
  await assert.rejects(refund({ amount: 5 }), /APPROVAL_DENIED/);
  assert.deepEqual(
    audit.events.filter((event) => event.type === 'decision').map((event) => event.code ?? event.decision),
    ['allow', 'NO_MATCHING_RULE', 'allow', 'APPROVAL_DENIED'],
  );
});

test('the JSONL log verifies with the installed toolgate command', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'consumer-')), 'audit.jsonl');
  const tg = createGuard({ policy, audit: jsonlAudit({ path }) });
  await tg.guard(() => 'rows', { name: 'db.read' })({});
  await tg.close();
  const verify = spawnSync('npx', ['--no-install', 'toolgate', 'audit', 'verify', path], {
    encoding: 'utf8',
  });
  assert.equal(verify.status, 0, verify.stdout + verify.stderr);
  assert.match(verify.stdout, /✓ ok/);
});
