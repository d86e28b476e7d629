import { SpanStatusCode } from '@opentelemetry/api';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { otelAudit } from '../../src/backends/otel/index.ts';
import { callbackApprover, createGuard, rules } from '../../src/index.ts';

class TestReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

function setup() {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const reader = new TestReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  const sink = otelAudit({
    tracer: provider.getTracer('test'),
    meter: meterProvider.getMeter('test'),
    captureArgs: true,
  });
  const metric = async (name: string) => {
    const { resourceMetrics } = await reader.collect();
    return resourceMetrics.scopeMetrics
      .flatMap((scope) => scope.metrics)
      .find((m) => m.descriptor.name === name);
  };
  return { exporter, sink, metric };
}

describe('otelAudit', () => {
  it('one execute_tool span per call with GenAI and toolgate attributes; denials are errors', async () => {
    const { exporter, sink, metric } = setup();
    const tg = createGuard({
      policy: rules([
        { id: 'refunds', effect: 'allow', tool: 'payments.refund' },
        { id: 'no-delete', effect: 'deny', tool: 'db.delete' },
      ]),
      audit: sink,
    });
    const refund = tg.guard(() => 'ok', { name: 'payments.refund' });
    const remove = tg.guard(() => 'gone', { name: 'db.delete' });
    const failing = tg.guard(
      () => {
        throw new TypeError('boom');
      },
      { name: 'payments.refund' },
    );
    await refund(
      { amount: 5, password: 'never-in-telemetry' },
      { toolCallId: 'call_abc', context: { agent: 'bot' } },
    );
    await remove({ id: 1 }).catch(() => undefined);
    await failing({}).catch(() => undefined);
    await tg.close();

    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => s.name)).toEqual([
      'execute_tool payments.refund',
      'execute_tool db.delete',
      'execute_tool payments.refund',
    ]);
    const [ok, denied, failed] = spans;
    expect(ok!.attributes).toMatchObject({
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': 'payments.refund',
      'gen_ai.tool.call.id': 'call_abc',
      'gen_ai.tool.type': 'function',
      'toolgate.decision': 'allow',
      'toolgate.rules': ['refunds'],
      'toolgate.agent': 'bot',
      'toolgate.outcome': 'ok',
    });
    expect(String(ok!.attributes['gen_ai.tool.call.arguments'])).not.toContain('never-in-telemetry');
    expect(ok!.status.code).not.toBe(SpanStatusCode.ERROR);
    expect(denied!.attributes).toMatchObject({
      'toolgate.decision': 'deny',
      'toolgate.deny_code': 'DENIED_BY_RULE',
      'error.type': 'toolgate.denied',
    });
    expect(denied!.status.code).toBe(SpanStatusCode.ERROR);
    expect(failed!.attributes['error.type']).toBe('TypeError');
    expect(failed!.status.code).toBe(SpanStatusCode.ERROR);

    const counted = await metric('toolgate.decisions');
    const points = counted!.dataPoints as { attributes: Record<string, unknown>; value: number }[];
    const total = points.reduce((sum, p) => sum + p.value, 0);
    expect(total).toBe(3);
    expect(points.find((p) => p.attributes['toolgate.decision'] === 'deny')?.value).toBe(1);
    expect(await metric('toolgate.tool.duration')).toBeDefined();
    expect(await metric('toolgate.decision.duration')).toBeDefined();
  });

  it('approval steps are span events; nested calls are child spans', async () => {
    const { exporter, sink } = setup();
    const tg = createGuard({
      policy: rules([
        { id: 'ask', effect: 'ask', tool: 'outer', reason: 'check' },
        { id: 'inner', effect: 'allow', tool: 'inner' },
      ]),
      approver: callbackApprover((request) => ({ requestId: request.id, approved: true, approver: 'alice' })),
      audit: sink,
    });
    const inner = tg.guard(() => 1, { name: 'inner' });
    const outer = tg.guard(async () => inner({}), { name: 'outer' });
    await outer({});
    await tg.close();
    const spans = exporter.getFinishedSpans();
    const outerSpan = spans.find((s) => s.name === 'execute_tool outer')!;
    const innerSpan = spans.find((s) => s.name === 'execute_tool inner')!;
    expect(outerSpan.events.map((e) => e.name)).toEqual([
      'toolgate.approval.request',
      'toolgate.approval.response',
    ]);
    expect(outerSpan.events[1]!.attributes).toMatchObject({
      'toolgate.approval.approved': true,
      'toolgate.approval.approver': 'alice',
    });
    expect(outerSpan.attributes['toolgate.approvers']).toEqual(['alice']);
    expect(innerSpan.parentSpanContext?.spanId).toBe(outerSpan.spanContext().spanId);
    expect(innerSpan.spanContext().traceId).toBe(outerSpan.spanContext().traceId);
  });

  it('ends calls that never reported a result at close, marked incomplete', async () => {
    const { exporter, sink } = setup();
    sink.write({
      v: 1,
      id: 'c.1',
      ts: 0,
      type: 'decision',
      callId: 'c',
      tool: 't',
      argsHash: '',
      decision: 'allow',
      policyDecision: 'allow',
      rules: [],
      durationMs: 1,
    });
    expect(exporter.getFinishedSpans()).toHaveLength(0);
    await sink.close?.();
    expect(exporter.getFinishedSpans()[0]!.attributes['toolgate.incomplete']).toBe(true);
  });
});
