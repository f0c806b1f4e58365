/**
 * Exact arithmetic and display helpers of the reports. Money is integer 元 inside and 万元 with two decimals
 * on display; rates are percentages with two decimals; all rounding is half-up on BigInt, never floating point.
 */

/** Asia/Shanghai has used UTC+8 with no DST since 1991: a fixed offset is exact. */
const SHANGHAI_OFFSET_MS = 8 * 3_600_000;

/** An amount: integer 元 and its display in 万元 (two decimals, half-up at 100 元). */
export interface Money {
  yuan: number;
  wan: string;
}

/** A ratio with its percentage (two decimals, half-up); `bp` is the same value in basis points (1/100 %). */
export interface Rate {
  numerator: number;
  denominator: number;
  percent: string;
  bp: number;
}

type Int = number | bigint;

/** round(n / d) half away from zero, exact. */
export function divRound(n: Int, d: Int): bigint {
  const [a, b] = [BigInt(n), BigInt(d)];
  if (b === 0n) throw new RangeError('division by zero');
  const negative = a < 0n !== b < 0n;
  const [x, y] = [a < 0n ? -a : a, b < 0n ? -b : b];
  const q = (2n * x + y) / (2n * y);
  return negative ? -q : q;
}

/** n / d in basis points, half-up: ratioBp(1, 3) = 3333 (33.33 %). */
export function ratioBp(n: Int, d: Int): number {
  return Number(divRound(BigInt(n) * 10_000n, d));
}

/** Hundredths as a decimal string: 1234 → "12.34", -310 → "-3.10". */
export function formatHundredths(h: number | bigint): string {
  const v = BigInt(h);
  const abs = v < 0n ? -v : v;
  return `${v < 0n ? '-' : ''}${abs / 100n}.${String(abs % 100n).padStart(2, '0')}`;
}

/** Percentage points with a sign, for 超/滞后: 590 → "+5.90". */
export function formatPoints(bp: number): string {
  return bp > 0 ? `+${formatHundredths(bp)}` : formatHundredths(bp);
}

/** 元 → 万元 with two decimals: 350_000_000 → "35000.00"; 12_345 → "1.23"; 12_350 → "1.24". */
export function wan(yuan: number): string {
  if (!Number.isSafeInteger(yuan)) throw new RangeError(`amount must be integer 元, got ${yuan}`);
  return formatHundredths(divRound(yuan, 100));
}

export function money(yuan: number): Money {
  return { yuan, wan: wan(yuan) };
}

/** numerator / denominator as a Rate, or null when the denominator is 0 (nothing to measure). */
export function rate(numerator: number, denominator: number): Rate | null {
  if (denominator === 0) return null;
  const bp = ratioBp(numerator, denominator);
  return { numerator, denominator, percent: formatHundredths(bp), bp };
}

/** a/b ≥ c/d for non-negative rationals with positive denominators, exact. */
export function ratioAtLeast(a: Int, b: Int, c: Int, d: Int): boolean {
  return BigInt(a) * BigInt(d) >= BigInt(c) * BigInt(b);
}

function shanghaiIso(ms: number): string {
  return new Date(ms + SHANGHAI_OFFSET_MS).toISOString();
}

/** 'YYYY-MM-DD HH:mm' in Asia/Shanghai. */
export function shanghaiTime(ms: number): string {
  const iso = shanghaiIso(ms);
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;
}

/** 'YYYY-MM-DD' in Asia/Shanghai. */
export function shanghaiDay(ms: number): string {
  return shanghaiIso(ms).slice(0, 10);
}

export function toMs(t: Date | number | string): number {
  const ms = t instanceof Date ? t.getTime() : typeof t === 'number' ? t : Date.parse(t);
  if (!Number.isFinite(ms)) throw new RangeError(`invalid instant ${String(t)}`);
  return ms;
}

/** A reporting period: a month, a quarter or a whole year. */
export type Period = { year: number; month: number } | { year: number; quarter: number } | { year: number };

export interface PeriodRange {
  year: number;
  firstMonth: number; // 1–12
  lastMonth: number; // 1–12; 序时进度 = lastMonth / 12
  startMs: number; // 00:00 Asia/Shanghai of the first day
  endMs: number; // 00:00 Asia/Shanghai of the day after the last day (exclusive)
  firstDay: string; // YYYY-MM-DD
  lastDay: string; // YYYY-MM-DD, inclusive
  label: string; // 2025年6月 / 2025年第2季度 / 2025年
}

export function periodRange(p: Period): PeriodRange {
  const { year } = p;
  if (!Number.isInteger(year) || year < 2000 || year > 2999) throw new RangeError(`invalid year ${year}`);
  let first = 1;
  let last = 12;
  let label = `${year}年`;
  if ('month' in p) {
    if (!Number.isInteger(p.month) || p.month < 1 || p.month > 12)
      throw new RangeError(`invalid month ${p.month}`);
    [first, last, label] = [p.month, p.month, `${year}年${p.month}月`];
  } else if ('quarter' in p) {
    if (!Number.isInteger(p.quarter) || p.quarter < 1 || p.quarter > 4)
      throw new RangeError(`invalid quarter ${p.quarter}`);
    [first, last, label] = [3 * p.quarter - 2, 3 * p.quarter, `${year}年第${p.quarter}季度`];
  }
  const startMs = Date.UTC(year, first - 1, 1) - SHANGHAI_OFFSET_MS;
  const endMs = Date.UTC(year, last, 1) - SHANGHAI_OFFSET_MS;
  return {
    year,
    firstMonth: first,
    lastMonth: last,
    startMs,
    endMs,
    firstDay: shanghaiDay(startMs),
    lastDay: shanghaiDay(endMs - 1),
    label,
  };
}

/** 'YYYY-MM' → [year, month]. */
export function parseMonth(period: string): [number, number] {
  return [Number(period.slice(0, 4)), Number(period.slice(5, 7))];
}
