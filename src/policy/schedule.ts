import { ConfigurationError } from '../errors.ts';

/**
 * A time window. Every given part must hold: `days` and `hours` are read on the wall clock of `tz`
 * (an IANA zone, default `'UTC'`), so windows follow DST changes; `from` (inclusive) and `until`
 * (exclusive) are instants.
 */
export interface TimeWindow {
  /** `'mon'`…`'sun'`, or ranges such as `'mon-fri'`. */
  days?: string | readonly string[];
  /** `'08:00-18:00'` (start inclusive, end exclusive; `'22:00-06:00'` wraps midnight; `24:00` ends the day). */
  hours?: string | readonly string[];
  /** IANA time zone. @default 'UTC' */
  tz?: string;
  /** ISO 8601 instant with an offset or `Z`, or epoch ms. */
  from?: string | number;
  /** ISO 8601 instant with an offset or `Z`, or epoch ms. */
  until?: string | number;
}

const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
const WEEKDAY_INDEX: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };
const WINDOW_KEYS = new Set(['days', 'hours', 'tz', 'from', 'until']);
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let format = formatters.get(tz);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
    });
    formatters.set(tz, format);
  }
  return format;
}

/** Local day of week (0 = Sunday) and minute of day of an instant in `tz`. */
export function localTime(now: number, tz: string): { day: number; minute: number } {
  let day = 0;
  let hour = 0;
  let minute = 0;
  for (const part of formatter(tz).formatToParts(now)) {
    if (part.type === 'weekday') day = WEEKDAY_INDEX[part.value] ?? 0;
    else if (part.type === 'hour') hour = Number(part.value) % 24;
    else if (part.type === 'minute') minute = Number(part.value);
  }
  return { day, minute: hour * 60 + minute };
}

/** Compiles a window into a test of an instant. Invalid windows throw a ConfigurationError naming `where`. */
export function compileWindow(window: unknown, where: string): (now: number) => boolean {
  if (typeof window !== 'object' || window === null || Array.isArray(window))
    throw new ConfigurationError(`${where}: must be an object { days, hours, tz, from, until }`);
  for (const key of Reflect.ownKeys(window)) {
    if (typeof key !== 'string' || !WINDOW_KEYS.has(key))
      throw new ConfigurationError(`${where}: unknown field ${String(key)}`);
  }
  const spec = window as TimeWindow;
  if (Object.keys(spec).length === 0) throw new ConfigurationError(`${where}: an empty window`);
  const tz = spec.tz ?? 'UTC';
  if (typeof tz !== 'string') throw new ConfigurationError(`${where}.tz: must be an IANA time zone name`);
  try {
    formatter(tz);
  } catch {
    throw new ConfigurationError(`${where}.tz: unknown time zone ${JSON.stringify(tz)}`);
  }
  const days = spec.days === undefined ? undefined : parseDays(spec.days, `${where}.days`);
  const hours = spec.hours === undefined ? undefined : parseHours(spec.hours, `${where}.hours`);
  const from = spec.from === undefined ? undefined : parseInstant(spec.from, `${where}.from`);
  const until = spec.until === undefined ? undefined : parseInstant(spec.until, `${where}.until`);
  if (from !== undefined && until !== undefined && from >= until)
    throw new ConfigurationError(`${where}: from must be before until`);
  const needsLocal = days !== undefined || hours !== undefined;
  // The local wall clock only changes at whole minutes (all current zone offsets are whole minutes).
  let cachedMinute = Number.NaN;
  let cachedLocal = false;
  return (now) => {
    if (from !== undefined && now < from) return false;
    if (until !== undefined && now >= until) return false;
    if (!needsLocal) return true;
    const minuteKey = Math.floor(now / 60_000);
    if (minuteKey === cachedMinute) return cachedLocal;
    const local = localTime(now, tz);
    let inside = days === undefined || days.has(local.day);
    if (inside && hours !== undefined)
      inside = hours.some(([start, end]) =>
        start <= end
          ? local.minute >= start && local.minute < end
          : local.minute >= start || local.minute < end,
      );
    cachedMinute = minuteKey;
    cachedLocal = inside;
    return inside;
  };
}

function parseDays(value: unknown, where: string): Set<number> {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0)
    throw new ConfigurationError(`${where}: must be a day ('mon') or a list of days or ranges ('mon-fri')`);
  const days = new Set<number>();
  for (const item of list) {
    if (typeof item !== 'string') throw new ConfigurationError(`${where}: days are strings such as 'mon'`);
    const [first, last, extra] = item.toLowerCase().split('-');
    const start = DAY_NAMES.indexOf(first as (typeof DAY_NAMES)[number]);
    const end = last === undefined ? start : DAY_NAMES.indexOf(last as (typeof DAY_NAMES)[number]);
    if (start < 0 || end < 0 || extra !== undefined)
      throw new ConfigurationError(
        `${where}: unknown day ${JSON.stringify(item)} (use mon, tue, … or mon-fri)`,
      );
    for (let day = start; ; day = (day + 1) % 7) {
      days.add(day);
      if (day === end) break;
    }
  }
  return days;
}

function parseHours(value: unknown, where: string): [number, number][] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0)
    throw new ConfigurationError(`${where}: must be a range 'HH:MM-HH:MM' or a list of them`);
  return list.map((item) => {
    const match = typeof item === 'string' ? /^(\d{2}):(\d{2})-(\d{2}):(\d{2})$/.exec(item) : null;
    if (match === null)
      throw new ConfigurationError(`${where}: ${JSON.stringify(item)} is not 'HH:MM-HH:MM'`);
    const start = Number(match[1]) * 60 + Number(match[2]);
    const end = Number(match[3]) * 60 + Number(match[4]);
    if (Number(match[2]) > 59 || Number(match[4]) > 59 || start >= 24 * 60 || end > 24 * 60 || start === end)
      throw new ConfigurationError(`${where}: ${JSON.stringify(item)} is not a valid range`);
    return [start, end];
  });
}

const INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(?:Z|([+-])(\d{2}):(\d{2}))$/;

/**
 * Parses an instant: epoch ms, or ISO 8601 with a time and an explicit offset or `Z`. Every part
 * must exist on the calendar (`2026-02-31`, `2025-02-29`, `24:00`, an offset of `+25:00` are
 * refused): `Date.parse` would roll them over into another day. The one parser of instants in the
 * policy language (schedule `from` / `until`, rule `expires`, the CLI's `--now`).
 */
export function parseInstant(value: unknown, where: string): number {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  const parsed = typeof value === 'string' ? calendarInstant(value) : undefined;
  if (parsed !== undefined) return parsed;
  throw new ConfigurationError(
    `${where}: must be an ISO 8601 instant with an offset (e.g. '2026-01-01T00:00:00Z') or epoch ms, on the calendar; got ${JSON.stringify(value)}`,
  );
}

/** The epoch ms of an ISO 8601 instant whose every component exists, or undefined. */
function calendarInstant(text: string): number | undefined {
  const match = INSTANT.exec(text);
  if (match === null) return undefined;
  const [year, month, day, hour, minute] = [1, 2, 3, 4, 5].map((i) => Number(match[i])) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const second = match[6] === undefined ? 0 : Number(match[6]);
  const millis = match[7] === undefined ? 0 : Number(match[7].padEnd(3, '0'));
  const offsetHours = match[9] === undefined ? 0 : Number(match[9]);
  const offsetMinutes = match[10] === undefined ? 0 : Number(match[10]);
  if (hour > 23 || minute > 59 || second > 59 || offsetHours > 23 || offsetMinutes > 59) return undefined;
  // Round trip: the components as a UTC date must come back unchanged (no Feb 31 → Mar 3).
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day)
    return undefined;
  date.setUTCHours(hour, minute, second, millis);
  const sign = match[8] === '-' ? -1 : 1;
  const epoch = date.getTime() - sign * (offsetHours * 60 + offsetMinutes) * 60_000;
  return Number.isFinite(epoch) ? epoch : undefined;
}
