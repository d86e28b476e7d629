import { canonicalJson as canonical, hashJson as hash } from '../_internal/canonical.ts';

// The canonical JSON and hashes that audit records and approvals are built on, for hosts that
// check them themselves (a record's `argsHash`, a chain line, a grant's `argsHash`).

/**
 * Canonical JSON (RFC 8785 / JCS) of JSON data: object keys sorted by UTF-16 code units, no
 * whitespace, ECMAScript number and string forms. Throws a TypeError on values JSON cannot
 * represent exactly (non-finite numbers, `undefined`, functions).
 *
 * @example
 * canonicalJson({ b: 1, a: [true, 'x'] }); // '{"a":[true,"x"],"b":1}'
 */
export function canonicalJson(value: unknown): string {
  return canonical(value);
}

/**
 * Lowercase hex SHA-256 of the canonical JSON of `value`: the `argsHash` of a call's arguments.
 *
 * @example
 * await tg.grants.issue({ tool: 'payments.refund', argsHash: hashJson({ orderId: 'o-1' }), for: '1h' });
 */
export function hashJson(value: unknown): string {
  return hash(value);
}
