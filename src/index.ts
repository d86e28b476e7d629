// biome-ignore-all assist/source/organizeImports: the exports are grouped by topic, under headings

// The guard: create one, wrap tools, dry-run a call, listen to its events.
export { createGuard, guard } from './guard.ts';
export type {
  CallOptions,
  Guard,
  GuardDefaults,
  GuardedTool,
  GuardOptions,
  IdentityOptions,
  OnDeny,
  DenialDetail,
  ShutdownOptions,
  ToolCallOptions,
  ToolOptions,
} from './guard-types.ts';
export type { GuardErrorEvent, GuardEvents, GuardWarningEvent } from './events.ts';

// Errors: every error toolgate throws is a GuardError with a stable UPPER_SNAKE code.
export {
  ConfigurationError,
  CredentialError,
  type CredentialErrorCode,
  GuardError,
  type GuardErrorOptions,
  ToolDeniedError,
  ToolInterruptedError,
} from './errors.ts';

// What a call is and how it is decided: requests, context, decisions, deny codes.
export { DENY_CODES } from './types.ts';
export type {
  ApprovalRequirements,
  Awaitable,
  Decision,
  DeepReadonly,
  DenyCode,
  DenyDecision,
  Duration,
  FailedCondition,
  JsonObject,
  JsonPrimitive,
  JsonValue,
  LimitKeyField,
  LimitRequirement,
  Obligations,
  RuleLimits,
  ToolContext,
  ToolDenial,
  ToolInfo,
  ToolRequest,
} from './types.ts';
export type { StandardSchemaV1 } from './standard-schema.ts';

// Policy: the engine contract, the rules engine, conditions, scopes, policy files, combinators.
export type { PolicyEngine } from './policy/types.ts';
export {
  type Rule,
  type RuleApproval,
  type RuleLimitsInput,
  type RuleObligations,
  type RulesEngine,
  type RulesOptions,
  rules,
} from './policy/rules.ts';
export type {
  CompileConditionOptions,
  Condition,
  ConditionMap,
  Operators,
  Predicate,
} from './policy/condition-types.ts';
export type { TimeWindow } from './policy/schedule.ts';
export { type PathScopeOptions, pathScope } from './policy/scopes/path.ts';
export { type OpenInScopeOptions, openInScope } from './policy/scopes/open-in-scope.ts';
export { type UrlScopeOptions, urlScope } from './policy/scopes/url.ts';
export type { PolicyScope, ScopeFactories } from './policy/scopes/scope.ts';
export {
  type LoadPolicyOptions,
  loadPolicy,
  type PolicyDocument,
  type PolicyFileEngine,
  type PolicyFileEvents,
  type PolicyReloadInfo,
  parsePolicy,
} from './policy/load.ts';
export { denyOverrides, firstApplicable } from './policy/combine.ts';

// Approvals: the provider contract, built-in providers and channels, signed answers, grants.
export type {
  ApprovalProvider,
  ApprovalRequest,
  ApprovalRequestOptions,
  ApprovalResponse,
  RememberOptions,
} from './approval/types.ts';
export { autoApprove, autoDeny, callbackApprover } from './approval/providers.ts';
export { type TerminalApproverOptions, terminalApprover } from './approval/terminal.ts';
export {
  type ApprovalAnswer,
  type ApprovalQueue,
  type ApprovalQueueOptions,
  type ApprovalStore,
  approvalQueue,
  type PendingApproval,
  type QueueApproverOptions,
  queueApprover,
} from './approval/queue.ts';
export {
  type ApprovalDirectory,
  type ApprovalDirectoryOptions,
  approvalDirectory,
} from './approval/directory.ts';
export {
  type ApprovalCallbackRequest,
  type ApprovalCallbackResponse,
  type ApprovalCallbackResult,
  type WebhookApprover,
  type WebhookApproverOptions,
  webhookApprover,
} from './approval/webhook.ts';
export {
  type ApprovalBinding,
  type ApprovalSecret,
  type ApprovalTokenPayload,
  approvalBinding,
  signApprovalResponse,
  verifyApprovalResponse,
  verifyWebhookSignature,
} from './approval/token.ts';
export type { Grant, GrantApproval, GrantOptions, GrantsApi } from './approval/grant-types.ts';

// Audit: the sink contract and events, built-in sinks, redaction, checking a JSONL trail.
export type {
  AccessEvent,
  ApprovalRequestEvent,
  ApprovalResponseEvent,
  AuditEvent,
  AuditEventBase,
  AuditMode,
  AuditOption,
  AuditSink,
  ConsoleAction,
  ConsoleEvent,
  DecisionEvent,
  GrantUsedEvent,
  IdentityEvent,
  PolicyReloadEvent,
  ResultEvent,
  SuspensionEvent,
} from './audit/types.ts';
export { AUDIT_EVENT_TYPES, AUDIT_SCHEMA_VERSION } from './audit/types.ts';
export { type MemoryAuditSink, memoryAudit } from './audit/memory.ts';
export { consoleAudit } from './audit/console.ts';
export {
  type CheckpointAnchor,
  type CheckpointOptions,
  type JsonlAuditOptions,
  type JsonlAuditSink,
  type JsonlAuditStats,
  jsonlAudit,
} from './audit/jsonl.ts';
export { type MultiSinkOptions, multiSink } from './audit/multi.ts';
export { fileAnchor } from './audit/anchor.ts';
export { auditLogFiles } from './audit/files.ts';
export type { AuditCheckpoint } from './audit/chain.ts';
export type { OutputCaptureOptions, OutputShape } from './audit/output.ts';
export {
  type CustomDetector,
  createRedactor,
  type RedactOptions,
  type Redactor,
  type RedactRoot,
  redactArgs,
  type SecretDetectorName,
} from './audit/redact.ts';
export { verifyAuditLog } from './audit/verify.ts';
export {
  AUDIT_VERIFY_CODES,
  type AuditVerifyCode,
  type AuditVerifyNotice,
  type AuditVerifyResult,
  type VerifyAuditLogOptions,
} from './audit/verify-types.ts';
export { canonicalJson, hashJson } from './audit/canonical-json.ts';

// Secrets: providers the host keeps keys in, and the scrubber that keeps them out of every output.
export type { SecretProvider, SecretRequest, SecretValue } from './secrets/types.ts';
export type { SecretBinding, SecretsOptions } from './secrets/broker.ts';
export { type EnvSecretsOptions, envSecrets } from './secrets/env.ts';
export { type FileSecretsOptions, fileSecrets } from './secrets/file.ts';
export { type CallbackSecretsOptions, callbackSecrets } from './secrets/callback.ts';
export {
  MIN_SECRET_LENGTH,
  type SecretScrubber,
  type SecretScrubberOptions,
  secretScrubber,
} from './secrets/scrubber.ts';

// Limits: the kill switch (`tg.suspend()`); rates, concurrency and budgets are declared on rules.
export type { ActiveSuspension, SuspendOptions, SuspendTarget } from './limits/suspend.ts';

// State: the memory store, and the StateStore contract with its types, for implementers.
export { type MemoryStore, memoryStore } from './store/memory.ts';
export type {
  AdmitRequest,
  AdmitResult,
  BudgetCheck,
  ClaimOptions,
  PutOptions,
  RateCheck,
  SemaphoreCheck,
  SettleRequest,
  StateStore,
  StoredRecord,
  Suspension,
  SuspensionRecord,
  SyncAdmission,
  Unsubscribe,
  UseOptions,
  UseResult,
} from './store/types.ts';
export { type WaitForOptions, waitFor } from './store/wait.ts';
