// The simulation of a compiled `matches` pattern (src/policy/regex.ts builds the states): a
// Thompson NFA run in lockstep over the input's code points, with a work budget so that no
// pattern, however large its counted repetitions, can hold the (synchronous) evaluation long.

/**
 * Work allowed for one test of one `matches` pattern: every state visited at every position counts
 * one step, every character class looked up outside ASCII counts {@link CLASS_TEST_STEPS}. A test
 * that would need more is indeterminate. About 10 ms on a laptop.
 */
export const MAX_MATCH_STEPS: number = 1_000_000;

/** Steps charged for testing one non-ASCII code point against a character class (a RegExp call). */
export const CLASS_TEST_STEPS: number = 16;

/** One NFA state as the parser builds it; `id`s are dense, from 1. */
export type State =
  | { kind: 'char'; test: CharClass; out: State | undefined; id: number }
  | { kind: 'split'; out: State | undefined; alt: State | undefined; id: number }
  | { kind: 'assert'; at: 'start' | 'end'; out: State | undefined; id: number }
  | { kind: 'match'; id: number };

/** A one-character test; copies of an atom (from counted repetition) share one. */
export interface CharClass {
  index: number;
  /** Whether a non-ASCII code point is in the class. */
  readonly test: (cp: number) => boolean;
  /** Per ASCII code point: 0 not yet known, 1 in the class, -1 not. */
  readonly ascii: Int8Array;
}

/** The outcome of one test and the work it took. */
export interface MatchRun {
  /** Whether the pattern matches; `undefined` when the work budget ran out first. */
  readonly result: boolean | undefined;
  /** Steps taken (see {@link MAX_MATCH_STEPS}); deterministic for a pattern and an input. */
  readonly steps: number;
}

const CHAR = 0;
const SPLIT = 1;
const START = 2;
const END = 3;
const MATCH = 4;
const NONE = 0;

/** The states flattened into arrays, indexed by id (0 is "no state"). */
export interface Program {
  readonly start: number;
  readonly size: number;
  readonly kind: Uint8Array;
  readonly out: Int32Array;
  readonly alt: Int32Array;
  readonly cls: Int32Array;
  readonly classes: readonly CharClass[];
}

/** Flattens the state graph reachable from `start`. */
export function program(start: State, count: number): Program {
  const size = count + 1;
  const kind = new Uint8Array(size);
  const out = new Int32Array(size);
  const alt = new Int32Array(size);
  const cls = new Int32Array(size);
  const classes: CharClass[] = [];
  const done = new Uint8Array(size);
  const stack: State[] = [start];
  for (let state = stack.pop(); state !== undefined; state = stack.pop()) {
    if (done[state.id] === 1) continue;
    done[state.id] = 1;
    const push = (next: State | undefined): number => {
      if (next === undefined) return NONE;
      stack.push(next);
      return next.id;
    };
    switch (state.kind) {
      case 'char':
        kind[state.id] = CHAR;
        if (!classes.includes(state.test)) {
          state.test.index = classes.length;
          classes.push(state.test);
        }
        cls[state.id] = state.test.index;
        out[state.id] = push(state.out);
        break;
      case 'split':
        kind[state.id] = SPLIT;
        out[state.id] = push(state.out);
        alt[state.id] = push(state.alt);
        break;
      case 'assert':
        kind[state.id] = state.at === 'start' ? START : END;
        out[state.id] = push(state.out);
        break;
      default:
        kind[state.id] = MATCH;
    }
  }
  return { start: start.id, size, kind, out, alt, cls, classes };
}

const MATCHED = -1;
const EXHAUSTED = -2;

/** Scratch space of one run. */
interface Run {
  readonly p: Program;
  readonly length: number;
  readonly budget: number;
  /** Per state: position + 1 at which it was last added. */
  readonly seen: Int32Array;
  readonly stack: Int32Array;
  steps: number;
}

/**
 * Adds the closure of `from` at `position` to `list` after its first `count` entries; returns the
 * new count, or MATCHED when the closure holds the match state, or EXHAUSTED past the budget.
 */
function closure(r: Run, from: number, position: number, list: Int32Array, count: number): number {
  const { kind, out, alt } = r.p;
  const { seen, stack, budget, length } = r;
  const mark = position + 1;
  let steps = r.steps;
  let top = 0;
  stack[top++] = from;
  while (top > 0) {
    const id = stack[--top]!;
    if (id === NONE || seen[id] === mark) continue;
    seen[id] = mark;
    if (++steps > budget) {
      r.steps = steps;
      return EXHAUSTED;
    }
    switch (kind[id]) {
      case MATCH:
        r.steps = steps;
        return MATCHED;
      case SPLIT:
        stack[top++] = alt[id]!;
        stack[top++] = out[id]!;
        break;
      case START:
        if (position === 0) stack[top++] = out[id]!;
        break;
      case END:
        if (position === length) stack[top++] = out[id]!;
        break;
      default:
        list[count++] = id;
    }
  }
  r.steps = steps;
  return count;
}

/**
 * Lockstep simulation: every position starts a thread (search semantics of `RegExp#test`). Each
 * state is visited at most once per position, so the work is at most positions × states; past
 * `budget` steps the answer is indeterminate rather than late.
 */
export function run(p: Program, input: string, budget: number = MAX_MATCH_STEPS): MatchRun {
  const { out, cls, classes, size } = p;
  const codePoints = new Int32Array(input.length);
  let length = 0;
  for (let i = 0; i < input.length; i++) {
    const cp = input.codePointAt(i)!;
    codePoints[length++] = cp;
    if (cp > 0xffff) i++;
  }
  const r: Run = {
    p,
    length,
    budget,
    seen: new Int32Array(size),
    // Each state is expanded once per closure and pushes at most two.
    stack: new Int32Array(size * 2 + 1),
    steps: 0,
  };
  let current = new Int32Array(size);
  let next = new Int32Array(size);
  let currentCount = 0;
  // Per class, outside ASCII: position + 1 of the last answer, and the answer.
  const classSeen = new Int32Array(classes.length);
  const classValue = new Uint8Array(classes.length);

  for (let position = 0; position <= length; position++) {
    // `current` holds the states reached by the previous step, already marked for this position.
    currentCount = closure(r, p.start, position, current, currentCount);
    if (currentCount === MATCHED) return { result: true, steps: r.steps };
    if (currentCount === EXHAUSTED) return { result: undefined, steps: r.steps };
    if (position === length) break;
    const cp = codePoints[position]!;
    let nextCount = 0;
    for (let i = 0; i < currentCount; i++) {
      const id = current[i]!;
      const index = cls[id]!;
      const cc = classes[index]!;
      let yes: boolean;
      if (cp < 128) {
        const known = cc.ascii[cp]!;
        if (known !== 0) yes = known === 1;
        else {
          yes = cc.test(cp);
          cc.ascii[cp] = yes ? 1 : -1;
        }
      } else if (classSeen[index] === position + 1) yes = classValue[index] === 1;
      else {
        r.steps += CLASS_TEST_STEPS;
        yes = cc.test(cp);
        classSeen[index] = position + 1;
        classValue[index] = yes ? 1 : 0;
      }
      if (++r.steps > budget) return { result: undefined, steps: r.steps };
      if (yes) {
        nextCount = closure(r, out[id]!, position + 1, next, nextCount);
        if (nextCount === MATCHED) return { result: true, steps: r.steps };
        if (nextCount === EXHAUSTED) return { result: undefined, steps: r.steps };
      }
    }
    [current, next] = [next, current];
    currentCount = nextCount;
  }
  return { result: false, steps: r.steps };
}
