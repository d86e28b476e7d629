/**
 * Characters that show as nothing, or as a blank, yet make a string another string: controls (Cc),
 * format characters (Cf: zero-width, soft hyphen, bidi overrides, BOM), unassigned (Cn), lone
 * surrogates (Cs), the rest of Unicode's Default_Ignorable_Code_Point set (the combining grapheme
 * joiner U+034F, variation selectors, Hangul fillers, Mongolian free variation selectors, …), and
 * U+2800 BRAILLE PATTERN BLANK, which renders blank. One set for every check of a name or an
 * identity, and for every escape of text shown to a person.
 */
export const INVISIBLE_CHARACTER: RegExp =
  /[\p{Cc}\p{Cf}\p{Cn}\p{Cs}\p{Default_Ignorable_Code_Point}\u2800]/u;
/** `INVISIBLE_CHARACTER`, every occurrence (for escaping). */
export const INVISIBLE_CHARACTERS: RegExp = new RegExp(INVISIBLE_CHARACTER.source, 'gu');

/**
 * Characters refused in names: the invisible ones above, separators and whitespace (Z*, including
 * NBSP). Identities may hold single inner U+0020 spaces (`'Jane Doe'`), checked apart.
 */
const FORBIDDEN = /[\p{Cc}\p{Cf}\p{Z}\p{Cn}\p{Cs}\p{Default_Ignorable_Code_Point}\u2800\s]/u;

/** The kinds of names the guard checks at its boundaries. */
export type NameKind = 'tool' | 'identity';

const KINDS: Record<NameKind, { label: string; maxLength: number; spaces: boolean; nfc: boolean }> = {
  // Tool names must already be NFC: the registry and the policy index look them up as given.
  tool: { label: 'a tool name', maxLength: 256, spaces: false, nfc: true },
  // Identities are compared after NFC (as the policy compares names), so other forms are accepted.
  identity: { label: 'an identity', maxLength: 1024, spaces: true, nfc: false },
};

/**
 * Why `value` is not an acceptable name of `kind`, or undefined when it is. One check for every
 * boundary: names that differ only by invisible or format characters, or by whitespace around them,
 * would otherwise look like one name to a person and count as two to the guard (or the reverse).
 * `label` names the value in the message (default: `a tool name`, `an identity`).
 */
export function nameProblem(value: unknown, kind: NameKind, label?: string): string | undefined {
  const rules = KINDS[kind];
  const what = label ?? rules.label;
  if (typeof value !== 'string') return `${what} must be a string`;
  if (value.length === 0) return `${what} must not be empty`;
  if (value.length > rules.maxLength) return `${what} must be at most ${rules.maxLength} characters`;
  const visible = rules.spaces ? value.replaceAll(' ', '') : value;
  if (FORBIDDEN.test(visible))
    return `${what} must not contain control, format (zero-width, bidi), other invisible or whitespace characters`;
  if (rules.spaces && (value.startsWith(' ') || value.endsWith(' ') || value.includes('  ')))
    return `${what} must not start or end with a space or hold two in a row`;
  if (rules.nfc && value.normalize('NFC') !== value) return `${what} must be in Unicode NFC`;
  return undefined;
}

/** Returns why `name` is not an acceptable tool name, or undefined when it is. */
export function toolNameProblem(name: unknown): string | undefined {
  return nameProblem(name, 'tool');
}

/**
 * Returns why `value` is not an acceptable identity (agent, principal, intent, session, approver,
 * or a glob naming them), or undefined when it is. `label` names it in the message.
 */
export function identityProblem(value: unknown, label?: string): string | undefined {
  return nameProblem(value, 'identity', label);
}

/**
 * The form identities are compared in, everywhere (policy, quorum, separation of duties, grants):
 * Unicode NFC, exact case.
 */
export function identityKey(value: string): string {
  return value.normalize('NFC');
}
