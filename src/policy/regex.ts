import { ConfigurationError } from '../errors.ts';
import { type CharClass, type MatchRun, program, run, type State } from './regex-run.ts';

/** Strings longer than this are never matched: the comparison is indeterminate. */
export const MAX_MATCH_INPUT = 4096;

const MAX_PATTERN_LENGTH = 1000;
const MAX_STATES = 20_000;

/** A compiled `matches` pattern. */
export interface SafeRegex {
  readonly source: string;
  /**
   * Same answer as `new RegExp(source, 'u').test(input)`, or `undefined` (indeterminate) when that
   * would take more than `MAX_MATCH_STEPS` steps of work.
   */
  test(input: string): boolean | undefined;
  /** `test`, with the work it took; `budget` (steps) defaults to `MAX_MATCH_STEPS`. */
  run(input: string, budget?: number): MatchRun;
}

/**
 * Compiles a `matches` pattern to a Thompson NFA run in lockstep (no backtracking), so matching
 * takes time linear in the input whatever the pattern: `(a+)+$` or `\d+\d+x` on hostile input cannot
 * stall the policy. Counted repetition makes one state per copy, so the work (positions × live
 * states) is also capped per test: past `MAX_MATCH_STEPS` the answer is indeterminate. JavaScript
 * (`u` mode) syntax; features a linear engine cannot have are refused at load: back-references,
 * lookahead and lookbehind, and word-boundary assertions.
 */
export function compileSafeRegex(pattern: unknown, where: string): SafeRegex {
  if (typeof pattern !== 'string') throw new ConfigurationError(`${where}: matches takes a string pattern`);
  if (pattern.length > MAX_PATTERN_LENGTH)
    throw new ConfigurationError(`${where}: pattern is longer than ${MAX_PATTERN_LENGTH} characters`);
  try {
    new RegExp(pattern, 'u');
  } catch (error) {
    throw new ConfigurationError(`${where}: invalid pattern: ${(error as Error).message}`);
  }
  const parser = new Parser(pattern);
  let start: State;
  try {
    start = parser.compile();
  } catch (error) {
    throw new ConfigurationError(
      `${where}: pattern ${JSON.stringify(pattern)} is refused: ${(error as Error).message}`,
    );
  }
  const compiled = program(start, parser.size);
  return Object.freeze({
    source: pattern,
    test: (input: string) => run(compiled, input).result,
    run: (input: string, budget?: number) => run(compiled, input, budget),
  });
}

/** A fragment: its start state and the dangling exits to patch. */
interface Fragment {
  start: State;
  exits: ((next: State) => void)[];
}

class Parser {
  private index = 0;
  private count = 0;
  private readonly chars: string[];
  private readonly classes = new Map<string, CharClass>();

  constructor(pattern: string) {
    this.chars = [...pattern];
  }

  compile(): State {
    const fragment = this.alternation();
    if (this.index < this.chars.length) throw new Error(`unexpected ${this.chars[this.index]}`);
    const match: State = { kind: 'match', id: this.next() };
    patch(fragment, match);
    return fragment.start;
  }

  /** The number of states. */
  get size(): number {
    return this.count;
  }

  private next(): number {
    this.count += 1;
    if (this.count > MAX_STATES) throw new Error('the pattern is too large');
    return this.count;
  }

  private peek(offset = 0): string | undefined {
    return this.chars[this.index + offset];
  }

  private alternation(): Fragment {
    let left = this.sequence();
    while (this.peek() === '|') {
      this.index += 1;
      const right = this.sequence();
      const split: State = { kind: 'split', out: left.start, alt: right.start, id: this.next() };
      left = { start: split, exits: [...left.exits, ...right.exits] };
    }
    return left;
  }

  private sequence(): Fragment {
    const parts: Fragment[] = [];
    while (this.index < this.chars.length && this.peek() !== '|' && this.peek() !== ')') {
      const atomStart = this.index;
      let atom = this.atom();
      atom = this.quantified(atom, atomStart);
      parts.push(atom);
    }
    if (parts.length === 0) return this.empty();
    for (let i = 0; i < parts.length - 1; i++) patch(parts[i]!, parts[i + 1]!.start);
    return { start: parts[0]!.start, exits: parts[parts.length - 1]!.exits };
  }

  private empty(): Fragment {
    const state: State = { kind: 'split', out: undefined, alt: undefined, id: this.next() };
    return {
      start: state,
      exits: [
        (next) => {
          state.out = next;
        },
      ],
    };
  }

  private atom(): Fragment {
    const ch = this.peek()!;
    if (ch === '(') {
      this.index += 1;
      if (this.peek() === '?') {
        const kind = this.peek(1);
        if (kind === ':') this.index += 2;
        else if (kind === '<' && this.peek(2) !== '=' && this.peek(2) !== '!') {
          const close = this.chars.indexOf('>', this.index);
          this.index = close + 1;
        } else throw new Error('lookahead and lookbehind are not supported');
      }
      const inner = this.alternation();
      if (this.peek() !== ')') throw new Error('unbalanced parenthesis');
      this.index += 1;
      return inner;
    }
    if (ch === '^' || ch === '$') {
      this.index += 1;
      const state: State = {
        kind: 'assert',
        at: ch === '^' ? 'start' : 'end',
        out: undefined,
        id: this.next(),
      };
      return {
        start: state,
        exits: [
          (next) => {
            state.out = next;
          },
        ],
      };
    }
    let text: string;
    if (ch === '[') {
      const begin = this.index;
      this.index += 1;
      if (this.peek() === '^') this.index += 1;
      while (this.index < this.chars.length && this.peek() !== ']')
        this.index += this.peek() === '\\' ? 2 : 1;
      this.index += 1;
      text = this.chars.slice(begin, this.index).join('');
    } else if (ch === '\\') {
      const next = this.peek(1) ?? '';
      if (/[1-9]/.test(next) || next === 'k') throw new Error('back-references are not supported');
      if (next === 'b' || next === 'B') throw new Error('word-boundary assertions are not supported');
      let length = 2;
      if (next === 'u' && this.peek(2) === '{') length = this.chars.indexOf('}', this.index) - this.index + 1;
      else if (next === 'u') length = 6;
      else if (next === 'x') length = 4;
      else if ((next === 'p' || next === 'P') && this.peek(2) === '{')
        length = this.chars.indexOf('}', this.index) - this.index + 1;
      else if (next === 'c') length = 3;
      text = this.chars.slice(this.index, this.index + length).join('');
      this.index += length;
    } else {
      text = ch;
      this.index += 1;
    }
    let test = this.classes.get(text);
    if (test === undefined) {
      test = charClass(text);
      this.classes.set(text, test);
    }
    const state: State = { kind: 'char', test, out: undefined, id: this.next() };
    return {
      start: state,
      exits: [
        (next) => {
          state.out = next;
        },
      ],
    };
  }

  private quantified(atom: Fragment, atomStart: number): Fragment {
    const ch = this.peek();
    let min: number;
    let max: number;
    if (ch === '*' || ch === '+' || ch === '?') {
      this.index += 1;
      min = ch === '+' ? 1 : 0;
      max = ch === '?' ? 1 : Number.POSITIVE_INFINITY;
    } else if (ch === '{') {
      const rest = this.chars.slice(this.index).join('');
      const match = /^\{(\d+)(,(\d*))?\}/.exec(rest);
      if (match === null) return atom;
      this.index += [...match[0]].length;
      min = Number(match[1]);
      max = match[2] === undefined ? min : match[3] === '' ? Number.POSITIVE_INFINITY : Number(match[3]);
    } else return atom;
    if (this.peek() === '?') this.index += 1; // laziness does not change whether it matches
    const atomEnd = this.index;
    // Each further copy of the atom is parsed again from its source, giving fresh states.
    const copy = (): Fragment => {
      const saved = this.index;
      this.index = atomStart;
      const fresh = this.atom();
      this.index = saved;
      return fresh;
    };
    const parts: Fragment[] = [];
    for (let i = 0; i < min; i++) parts.push(i === 0 ? atom : copy());
    if (max === Number.POSITIVE_INFINITY) {
      const body = min === 0 ? atom : copy();
      const split: State = { kind: 'split', out: body.start, alt: undefined, id: this.next() };
      patch(body, split);
      parts.push({
        start: split,
        exits: [
          (next) => {
            split.alt = next;
          },
        ],
      });
    } else {
      for (let i = min; i < max; i++) {
        const body = i === 0 ? atom : copy();
        const split: State = { kind: 'split', out: body.start, alt: undefined, id: this.next() };
        parts.push({
          start: split,
          exits: [
            ...body.exits,
            (next) => {
              split.alt = next;
            },
          ],
        });
      }
    }
    this.index = atomEnd;
    if (parts.length === 0) return this.empty();
    for (let i = 0; i < parts.length - 1; i++) patch(parts[i]!, parts[i + 1]!.start);
    return { start: parts[0]!.start, exits: parts[parts.length - 1]!.exits };
  }
}

function patch(fragment: Fragment, next: State): void {
  for (const exit of fragment.exits) exit(next);
}

/** A one-character test, answered by the engine's own RegExp on a single code point (linear). */
function charClass(text: string): CharClass {
  const regex = new RegExp(`^(?:${text})$`, 'u');
  return { index: 0, test: (cp) => regex.test(String.fromCodePoint(cp)), ascii: new Int8Array(128) };
}
