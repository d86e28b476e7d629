import { responseProblem } from '../approval/messages.ts';
import type { ApprovalProvider, ApprovalRequest } from '../approval/types.ts';
import { expect } from './expect.ts';
import { type SuiteOptions, suiteRunner } from './runner.ts';

/** Options of `testApprovalProvider`. */
export interface TestApprovalProviderOptions extends SuiteOptions {
  /**
   * Creates a fresh provider and a `respond` hook through which the test answers a pending
   * request the way a human would on that channel.
   */
  create(): Promise<{
    provider: ApprovalProvider;
    respond(
      request: ApprovalRequest,
      answer: { approved: boolean; approver: string; reason?: string },
    ): Promise<void>;
    cleanup?: () => Promise<void>;
  }>;
}

/**
 * Conformance suite for an `ApprovalProvider`: well-formed answers bound to the request id,
 * approve and deny paths, and prompt settlement when the signal aborts. Pass your runner's
 * `describe` and `it` as `runner` (vitest, Jest, node:test).
 */
export function testApprovalProvider(name: string, options: TestApprovalProviderOptions): void {
  const { describe, it } = suiteRunner(options, 'testApprovalProvider');
  describe(`ApprovalProvider conformance: ${name}`, () => {
    it('answers an approval with a well-formed response for the same request', async () => {
      const { provider, respond, cleanup } = await options.create();
      const request = sampleApprovalRequest('r-approve');
      const pending = Promise.resolve(provider.request(request, { signal: new AbortController().signal }));
      await respond(request, { approved: true, approver: 'user:2' });
      const response = await pending;
      expect(responseProblem(response)).toBeUndefined();
      expect(response).toMatchObject({ requestId: 'r-approve', approved: true, approver: 'user:2' });
      await provider.close?.();
      await cleanup?.();
    });

    it('answers a denial with its reason', async () => {
      const { provider, respond, cleanup } = await options.create();
      const request = sampleApprovalRequest('r-deny');
      const pending = Promise.resolve(provider.request(request, { signal: new AbortController().signal }));
      await respond(request, { approved: false, approver: 'user:2', reason: 'no' });
      const response = await pending;
      expect(responseProblem(response)).toBeUndefined();
      expect(response).toMatchObject({ requestId: 'r-deny', approved: false, reason: 'no' });
      await provider.close?.();
      await cleanup?.();
    });

    it('settles when the signal aborts, without approving', async () => {
      const { provider, cleanup } = await options.create();
      const controller = new AbortController();
      const request = sampleApprovalRequest('r-abort');
      const pending = Promise.resolve()
        .then(() => provider.request(request, { signal: controller.signal }))
        .then(
          (response) => ({ settled: 'resolved' as const, response }),
          () => ({ settled: 'rejected' as const }),
        );
      setTimeout(() => controller.abort(new Error('stop')), 20);
      const outcome = await pending;
      if (outcome.settled === 'resolved') expect(outcome.response.approved).toBe(false);
      await provider.close?.();
      await cleanup?.();
    });
  });
}

function sampleApprovalRequest(id: string): ApprovalRequest {
  return Object.freeze({
    id,
    callId: `call-${id}`,
    tool: 'payments.refund',
    args: Object.freeze({ orderId: 'o-1', amount: 400 }),
    argsHash: 'b'.repeat(64),
    context: Object.freeze({ agent: 'support-bot', principal: 'user:42' }),
    reason: 'refunds over 100 need a human',
    rules: Object.freeze(['refund-large']),
    expiresAt: Date.now() + 60_000,
  });
}
