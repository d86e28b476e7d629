import { describe, it } from 'vitest';
import type { AuditEvent } from '../../src/index.ts';
import { consoleAudit, memoryAudit } from '../../src/index.ts';
import { testApprovalProvider, testAuditSink } from '../../src/testing/index.ts';
import { callbackChannel } from '../testing/fixtures/callback-channel.ts';

// The rules engine runs testPolicyEngine in test/policy/cases.test.ts, cedarEngine in
// test/backends/cedar.test.ts.

const runner = { describe, it };

testAuditSink('memoryAudit', {
  runner,
  async create() {
    const sink = memoryAudit();
    return { sink, read: async () => [...sink.events] };
  },
});

testAuditSink('consoleAudit', {
  runner,
  async create() {
    const lines: string[] = [];
    const sink = consoleAudit({ log: (line) => lines.push(line) });
    return { sink, read: async () => lines.map((line) => JSON.parse(line) as AuditEvent) };
  },
});

testApprovalProvider('callbackApprover', { runner, create: async () => callbackChannel() });
