/**
 * Test helpers for toolgate and for third-party engines, approvers and sinks. Conformance suites
 * need `vitest` (an optional peer dependency). Shipped code never imports this entry point.
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
export { type TestStateStoreOptions, testStateStore } from './state-store.ts';
