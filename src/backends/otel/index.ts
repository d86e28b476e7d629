import {
  type Attributes,
  type Counter,
  context,
  type Histogram,
  type Meter,
  metrics,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import type { AuditEvent, AuditSink } from '../../audit/types.ts';

// GenAI semantic conventions (execute_tool span). Copied as strings, as OpenTelemetry advises for
// incubating conventions, rather than imported from a deprecated entry point.
const GEN_AI_OPERATION_NAME = 'gen_ai.operation.name';
const GEN_AI_TOOL_NAME = 'gen_ai.tool.name';
const GEN_AI_TOOL_CALL_ID = 'gen_ai.tool.call.id';
const GEN_AI_TOOL_TYPE = 'gen_ai.tool.type';
const GEN_AI_TOOL_CALL_ARGUMENTS = 'gen_ai.tool.call.arguments';
const GEN_AI_TOOL_CALL_RESULT = 'gen_ai.tool.call.result';
const ERROR_TYPE = 'error.type';

/** Options of `otelAudit`. */
export interface OtelAuditOptions {
  /** Tracer for the spans. @default trace.getTracer('toolgate') */
  readonly tracer?: Tracer;
  /** Meter for the counters and histograms. @default metrics.getMeter('toolgate') */
  readonly meter?: Meter;
  /** Record the (redacted) arguments as `gen_ai.tool.call.arguments`. @default false */
  readonly captureArgs?: boolean;
  /** Record the captured (redacted) output as `gen_ai.tool.call.result`. @default false */
  readonly captureResult?: boolean;
  /** Spans kept open at most (a call that never reports a result is ended when evicted). @default 10_000 */
  readonly maxOpenSpans?: number;
  /** `gen_ai.tool.type`. @default 'function' */
  readonly toolType?: string;
}

/**
 * An audit sink that turns toolgate events into OpenTelemetry: one `execute_tool {tool}` span per
 * guarded call (GenAI conventions, plus `toolgate.*` attributes for the decision, deny code, rules
 * and approvers), span events for approval steps and grants, a `toolgate.decisions` counter and
 * `toolgate.decision.duration` / `toolgate.tool.duration` histograms (milliseconds). Uses only
 * `@opentelemetry/api`; it never installs a provider. Denied and failed calls get an ERROR status
 * and `error.type`.
 *
 * @example
 * import { otelAudit } from 'toolgate/otel';
 * const tg = createGuard({ policy, audit: [jsonlAudit({ path }), otelAudit()] });
 */
export function otelAudit(options: OtelAuditOptions = {}): AuditSink {
  const tracer = options.tracer ?? trace.getTracer('toolgate');
  const meter = options.meter ?? metrics.getMeter('toolgate');
  const maxOpen = options.maxOpenSpans ?? 10_000;
  const toolType = options.toolType ?? 'function';
  const decisions: Counter = meter.createCounter('toolgate.decisions', {
    description: 'Guarded tool call decisions',
  });
  const reloads: Counter = meter.createCounter('toolgate.policy.reloads', { description: 'Policy reloads' });
  const decisionDuration: Histogram = meter.createHistogram('toolgate.decision.duration', {
    description: 'Time from the start of a guarded call to its decision',
    unit: 'ms',
  });
  const toolDuration: Histogram = meter.createHistogram('toolgate.tool.duration', {
    description: 'Execution time of guarded tools',
    unit: 'ms',
  });
  const open = new Map<string, Span>();

  const start = (event: AuditEvent & { callId: string; tool: string }, offsetMs: number): Span => {
    const existing = open.get(event.callId);
    if (existing !== undefined) return existing;
    const parentSpan = event.parentCallId === undefined ? undefined : open.get(event.parentCallId);
    const parent = parentSpan === undefined ? context.active() : trace.setSpan(context.active(), parentSpan);
    const attributes: Attributes = {
      [GEN_AI_OPERATION_NAME]: 'execute_tool',
      [GEN_AI_TOOL_NAME]: event.tool,
      [GEN_AI_TOOL_TYPE]: toolType,
      'toolgate.call_id': event.callId,
    };
    if (event.toolCallId !== undefined) attributes[GEN_AI_TOOL_CALL_ID] = event.toolCallId;
    if (event.parentCallId !== undefined) attributes['toolgate.parent_call_id'] = event.parentCallId;
    if (event.agent !== undefined) attributes['toolgate.agent'] = event.agent;
    if (event.principal !== undefined) attributes['toolgate.principal'] = event.principal;
    if (event.intent !== undefined) attributes['toolgate.intent'] = event.intent;
    if (event.session !== undefined) attributes['toolgate.session'] = event.session;
    if (event.policyVersion !== undefined) attributes['toolgate.policy_version'] = event.policyVersion;
    if (options.captureArgs === true && event.args !== undefined)
      attributes[GEN_AI_TOOL_CALL_ARGUMENTS] = JSON.stringify(event.args);
    const span = tracer.startSpan(
      `execute_tool ${event.tool}`,
      { kind: SpanKind.INTERNAL, attributes, startTime: Date.now() - Math.max(0, offsetMs) },
      parent,
    );
    open.set(event.callId, span);
    if (open.size > maxOpen) {
      const [oldestId, oldest] = open.entries().next().value as [string, Span];
      open.delete(oldestId);
      oldest.setAttribute('toolgate.incomplete', true);
      oldest.end();
    }
    return span;
  };
  const end = (callId: string, span: Span) => {
    open.delete(callId);
    span.end();
  };

  const handle = (event: AuditEvent) => {
    switch (event.type) {
      case 'policy-reload':
        reloads.add(1, { 'toolgate.ok': event.ok });
        return;
      case 'decision': {
        const span = start(event, event.durationMs);
        const attributes: Attributes = {
          'toolgate.decision': event.decision,
          'toolgate.policy_decision': event.policyDecision,
          'toolgate.rules': [...event.rules],
        };
        if (event.code !== undefined) attributes['toolgate.deny_code'] = event.code;
        if (event.approvers !== undefined) attributes['toolgate.approvers'] = [...event.approvers];
        if (event.reason !== undefined) attributes['toolgate.reason'] = event.reason;
        span.setAttributes(attributes);
        const labels: Attributes = { [GEN_AI_TOOL_NAME]: event.tool, 'toolgate.decision': event.decision };
        if (event.code !== undefined) labels['toolgate.deny_code'] = event.code;
        decisions.add(1, labels);
        decisionDuration.record(event.durationMs, labels);
        if (event.decision === 'deny') {
          span.setAttribute(ERROR_TYPE, 'toolgate.denied');
          span.setStatus({ code: SpanStatusCode.ERROR, message: event.code ?? 'denied' });
          end(event.callId, span);
        }
        return;
      }
      case 'approval-request':
        start(event, 0).addEvent('toolgate.approval.request', {
          'toolgate.approval.request_id': event.requestId,
          'toolgate.approval.provider': event.provider,
          'toolgate.rules': [...event.rules],
        });
        return;
      case 'approval-response': {
        const attributes: Attributes = { 'toolgate.approval.request_id': event.requestId };
        if (event.approved !== undefined) attributes['toolgate.approval.approved'] = event.approved;
        if (event.approver !== undefined) attributes['toolgate.approval.approver'] = event.approver;
        if (event.code !== undefined) attributes['toolgate.deny_code'] = event.code;
        if (event.edited === true) attributes['toolgate.approval.edited'] = true;
        start(event, 0).addEvent('toolgate.approval.response', attributes);
        return;
      }
      case 'grant-used':
        start(event, 0).addEvent('toolgate.grant.used', { 'toolgate.grant_id': event.grantId });
        return;
      case 'result': {
        const span = start(event, event.durationMs);
        span.setAttribute('toolgate.outcome', event.outcome);
        if (event.outputShape !== undefined)
          span.setAttribute('toolgate.output.type', event.outputShape.type);
        if (options.captureResult === true && event.output !== undefined && event.outcome === 'ok')
          span.setAttribute(GEN_AI_TOOL_CALL_RESULT, JSON.stringify(event.output));
        if (event.outcome !== 'ok') {
          const type =
            event.outcome === 'error' ? (event.error?.name ?? '_OTHER') : `toolgate.${event.outcome}`;
          span.setAttribute(ERROR_TYPE, type);
          span.setStatus({ code: SpanStatusCode.ERROR, message: event.error?.message ?? event.outcome });
        }
        toolDuration.record(event.durationMs, {
          [GEN_AI_TOOL_NAME]: event.tool,
          'toolgate.outcome': event.outcome,
        });
        end(event.callId, span);
        return;
      }
    }
  };

  return {
    name: 'otel',
    write(event) {
      // Telemetry never breaks a call; a failure here reaches the guard's `error` event.
      handle(event);
    },
    async flush() {},
    async close() {
      for (const [callId, span] of open) {
        span.setAttribute('toolgate.incomplete', true);
        end(callId, span);
      }
    },
  };
}
