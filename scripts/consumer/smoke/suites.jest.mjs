// The conformance suites under Jest, through its global describe and it (no runner passed).
import { memoryStore, rules } from 'toolgate';
import { testPolicyEngine, testStateStore } from 'toolgate/testing';

testPolicyEngine('rules', { create: (list) => rules(list) });
testStateStore('memoryStore', { create: async () => ({ store: memoryStore() }) });
