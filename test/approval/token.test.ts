import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  approvalSecret,
  signApprovalResponse,
  signPayload,
  signWebhookBody,
  verifyApprovalResponse,
  verifyPayload,
  verifyWebhookSignature,
} from '../../src/approval/token.ts';
import { ConfigurationError } from '../../src/index.ts';

const SECRET = 'k'.repeat(32);
const binding = {
  requestId: 'r1',
  callId: 'c1',
  tool: 't',
  argsHash: 'a'.repeat(64),
  principal: 'user:1',
  policyVersion: null,
  expiresAt: 1000,
  round: 0,
};
const response = { requestId: 'r1', approved: true as const, approver: 'u' };

describe('approval tokens', () => {
  it('round-trip and bind the answer', () => {
    const token = signApprovalResponse(binding, response, SECRET, 500);
    const verified = verifyApprovalResponse(token, SECRET, { now: 600, maxAgeMs: 1000 });
    expect(verified).toEqual({ ok: true, payload: { binding, response, iat: 500 } });
  });

  it('refuse a missing or short key at construction', () => {
    expect(() => approvalSecret(undefined, 'x')).toThrow(ConfigurationError);
    expect(() => approvalSecret('short', 'x')).toThrow(ConfigurationError);
    expect(() => approvalSecret(new Uint8Array(32), 'x')).not.toThrow();
  });

  it('refuse another key, another kind, stale tokens and answers naming another request', () => {
    const token = signApprovalResponse(binding, response, SECRET, 500);
    expect(verifyApprovalResponse(token, 'z'.repeat(32), { now: 500, maxAgeMs: 10 })).toMatchObject({
      ok: false,
    });
    expect(verifyApprovalResponse(token, SECRET, { now: 5000, maxAgeMs: 10 })).toMatchObject({
      ok: false,
      problem: 'token outside the replay window',
    });
    const request = signPayload('request', { binding, response, iat: 500 }, SECRET);
    expect(verifyApprovalResponse(request, SECRET, { now: 500, maxAgeMs: 10 })).toMatchObject({ ok: false });
    const other = signApprovalResponse(binding, { ...response, requestId: 'r2' }, SECRET, 500);
    expect(verifyApprovalResponse(other, SECRET, { now: 500, maxAgeMs: 10 })).toMatchObject({
      ok: false,
      problem: 'response names another request',
    });
    const malformed = signPayload(
      'response',
      { binding, response: { ...response, approved: 'yes' }, iat: 500 },
      SECRET,
    );
    expect(verifyApprovalResponse(malformed, SECRET, { now: 500, maxAgeMs: 10 })).toMatchObject({
      ok: false,
    });
  });

  it('property: any change to a signed token is detected; garbage never throws', () => {
    const token = signPayload('response', { binding, response, iat: 1 }, SECRET);
    fc.assert(
      fc.property(fc.nat(token.length - 1), fc.string({ minLength: 1, maxLength: 1 }), (index, char) => {
        fc.pre(token[index] !== char);
        const changed = token.slice(0, index) + char + token.slice(index + 1);
        const result = verifyPayload('response', changed, SECRET);
        // base64url has a few spare bits in its last character; such a change decodes to the same bytes.
        if (result.ok) expect(result.payload).toEqual({ binding, response, iat: 1 });
      }),
    );
    fc.assert(
      fc.property(fc.anything(), (value) => {
        expect(verifyApprovalResponse(value, SECRET, { now: 0, maxAgeMs: 1 }).ok).toBe(false);
      }),
    );
  });

  // A time that is no number compares false with everything: a window checked against it would pass.
  it('refuse a time that is no number, and a window that is NaN', () => {
    const token = signApprovalResponse(binding, response, SECRET, 500);
    for (const now of [Number.NaN, Number.POSITIVE_INFINITY, '600' as unknown as number]) {
      expect(verifyApprovalResponse(token, SECRET, { now, maxAgeMs: 1000 })).toEqual({
        ok: false,
        problem: 'now is not a finite number of epoch ms',
      });
    }
    expect(verifyApprovalResponse(token, SECRET, { now: 600, maxAgeMs: Number.NaN }).ok).toBe(false);
    const body = '{"x":1}';
    const signed = {
      body,
      timestamp: 1_000,
      signature: signWebhookBody(body, 1_000, SECRET),
      secret: SECRET,
    };
    expect(verifyWebhookSignature({ ...signed, now: 1_500 })).toBe(true);
    expect(verifyWebhookSignature({ ...signed, now: Number.NaN })).toBe(false);
    expect(verifyWebhookSignature({ ...signed, now: 1_500, toleranceMs: Number.NaN })).toBe(false);
  });
});
