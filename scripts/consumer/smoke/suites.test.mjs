// The conformance suites under node:test, with the runner passed explicitly.
import { describe, it } from 'node:test';
import { memoryAudit, memoryStore, rules } from 'toolgate';
import { testAuditSink, testPolicyEngine, testStateStore } from 'toolgate/testing';

const runner = { describe, it };
testPolicyEngine('rules', { runner, create: (list) => rules(list) });
testStateStore('memoryStore', { runner, create: async () => ({ store: memoryStore() }) });
testAuditSink('memoryAudit', {
  runner,
  async create() {
    const sink = memoryAudit();
    return { sink, read: async () => [...sink.events] };
  },
});
