/**
 * Test helpers for toolgate and for third-party engines, approvers and sinks. Loading it needs no
 * test runner: the fakes work anywhere, and the conformance suites register their tests with the
 * `describe` and `it` you pass as `runner` (vitest, Jest, node:test; default: the globals). Shipped
 * code never imports this entry point.
 */
export { type MemoryAuditSink, memoryAudit } from '../audit/memory.ts';
export {
  type TestApprovalProviderOptions,
  testApprovalProvider,
} from './approval-provider-suite.ts';
export { type TestAuditSinkOptions, testAuditSink } from './audit-sink-suite.ts';
export {
  type FakeClock,
  fakeClock,
  type ScriptedAnswer,
  type ScriptedApprover,
  scriptedApprover,
} from './fakes.ts';
export {
  type NeutralRule,
  POLICY_CASES,
  type PolicyCase,
  type TestPolicyEngineOptions,
  testPolicyEngine,
} from './policy-engine-suite.ts';
export type { SuiteOptions, TestBody, TestRunner } from './runner.ts';
export { type TestSecretProviderOptions, testSecretProvider } from './secret-provider-suite.ts';
export { type TestStateStoreOptions, testStateStore } from './state-store.ts';
