/**
 * Helpers of the leader and administrator pages: list state in the URL, the policy (read once per tab), the
 * caller's place in "1+5+N", Shanghai days and months, and actions whose retry after a 504 keeps its key.
 */
import { useRef } from 'react';
import { useSearchParams } from 'react-router-dom';
import { useQuery } from '@tanstack/react-query';
import { Tag } from 'antd';
import dayjs, { type Dayjs } from 'dayjs';
import { ApiProblem, get, request } from '../../api';
import { useOrgs, useSession } from '../../components/common';
import { wan } from '../../format';

export const PAGE_SIZE = 20;

/**
 * A list's filters and page in the URL (shareable, kept by the back button). Changing a filter goes back to its
 * first page; `page` names the page parameter of that list (a page with two lists uses two).
 */
export function useUrlState() {
  const [params, setParams] = useSearchParams();
  const value = (key: string, fallback = '') => params.get(key) ?? fallback;
  const page = (key = 'page') => Math.max(1, Math.trunc(Number(params.get(key))) || 1);
  const set = (changes: Record<string, string | number | null | undefined>) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(changes)) {
      if (v === undefined || v === null || v === '') next.delete(k);
      else next.set(k, String(v));
    }
    if (!Object.keys(changes).some((k) => k === 'page' || k.endsWith('Page'))) next.delete('page');
    setParams(next, { replace: true });
  };
  return { params, value, page, set };
}

/** Table pagination whose page lives in the URL. */
export function urlPagination(
  url: ReturnType<typeof useUrlState>,
  key = 'page',
  pageSize = PAGE_SIZE,
  unit = '项',
) {
  return {
    current: url.page(key),
    pageSize,
    showSizeChanger: false,
    showTotal: (n: number) => `共 ${n} ${unit}`,
    onChange: (p: number) => url.set({ [key]: p === 1 ? '' : p }),
  };
}

// ------------------------------------------------------------------------------------------------ policy

export interface PolicyRule {
  path: string;
  value: unknown;
  source: 'seed' | 'law' | 'default' | 'unmarked';
  law?: string;
  note?: string;
  sourcePath?: string;
}

export interface PolicyDoc {
  version: string;
  title?: string;
  leadingGroup: string;
  organisations: { id: string; name: string; kind: string; head?: string; portfolio?: string }[];
  time?: { extensions?: { maxPerTask: number; maxWorkingDays: number } };
  funding?: { sourceTypes: Record<string, { label: string; higherLevel?: boolean }> };
  experts?: { fields: string[]; termYears: number };
  rules: PolicyRule[];
  [k: string]: unknown;
}

/** The policy in force (GET /policy), read once per tab. */
export function usePolicy() {
  return useQuery({
    queryKey: ['policy'],
    queryFn: () => get<PolicyDoc>('/policy'),
    staleTime: Infinity,
  });
}

/** Funding source types of the policy as select options (中央预算内投资, 地方政府专项债券, …). */
export function sourceTypeOptions(policy: PolicyDoc | undefined) {
  return Object.entries(policy?.funding?.sourceTypes ?? {}).map(([value, t]) => ({
    value,
    label: t.label,
  }));
}

/** Where the signed-in leader stands: the leading group (领导小组), a special group (专项推进组), or else. */
export function useLeaderPlace() {
  const session = useSession();
  const orgs = useOrgs();
  const org = session?.org ?? '';
  const kind = orgs.data?.find((o) => o.id === org)?.kind ?? '';
  const specialGroups = (orgs.data ?? []).filter((o) => o.kind === 'SPECIAL_GROUP');
  return {
    org,
    loaded: orgs.isSuccess,
    isLeadingGroup: kind === 'LEADING_GROUP',
    isSpecialGroup: kind === 'SPECIAL_GROUP',
    specialGroups,
    leadingGroupId: orgs.data?.find((o) => o.kind === 'LEADING_GROUP')?.id ?? 'leading-group',
  };
}

// ------------------------------------------------------------------------------------------------ days

const dayFmt = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'Asia/Shanghai',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
});

/** Today in Asia/Shanghai, YYYY-MM-DD. */
export function shanghaiToday(now: number = Date.now()): string {
  return dayFmt.format(new Date(now));
}

export const DAY_RE = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;
export const MONTH_RE = /^\d{4}-(0[1-9]|1[0-2])$/;

/** A calendar day that exists (2026-02-30 does not). */
export function isRealDay(day: string): boolean {
  if (!DAY_RE.test(day)) return false;
  const d = dayjs(day, 'YYYY-MM-DD');
  return d.isValid() && d.format('YYYY-MM-DD') === day;
}

/** 2026-12 → 2026年12月 */
export function formatMonth(month: string | null | undefined): string {
  const m = /^(\d{4})-(\d{2})$/.exec(month ?? '');
  return m ? `${m[1]}年${Number(m[2])}月` : (month ?? '—');
}

/** 2026-Q3 → 2026年第三季度 */
export function formatPeriod(period: string | null | undefined): string {
  const q = /^(\d{4})-Q([1-4])$/.exec(period ?? '');
  if (q) return `${q[1]}年第${'一二三四'[Number(q[2]) - 1]}季度`;
  return formatMonth(period);
}

export function addMonth(month: string, n: number): string {
  return dayjs(`${month}-01`).add(n, 'month').format('YYYY-MM');
}

export const dayOf = (d: Dayjs | null | undefined) => (d ? d.format('YYYY-MM-DD') : undefined);

// ------------------------------------------------------------------------------------------------ actions

/**
 * A POST whose retry after "not confirmed in time" (504), 503, 429 or a lost connection reuses the same
 * Idempotency-Key, so the retried click has one effect; any other answer starts the next click afresh.
 */
export function useIdempotentPost() {
  const key = useRef<string | null>(null);
  return async <T,>(path: string, body: unknown): Promise<T> => {
    key.current ??= crypto.randomUUID();
    try {
      const result = await request<T>('POST', path, { body, idempotencyKey: key.current });
      key.current = null;
      return result;
    } catch (err) {
      if (!(err instanceof ApiProblem && err.retryable)) key.current = null;
      throw err;
    }
  };
}

/** Required text as the API's `text(max)`: trimmed, 1..max characters. */
export function textRules(label: string, max: number, required = true) {
  return [
    ...(required ? [{ required: true, whitespace: true, message: `请填写${label}` }] : []),
    { max, message: `${label}不超过 ${max} 个字` },
  ];
}

export const RULE_SOURCE_LABELS: Record<PolicyRule['source'], string> = {
  seed: '文件依据',
  law: '法律法规',
  default: '本系统默认',
  unmarked: '未标注',
};

export function RuleSourceTag({ source }: { source: PolicyRule['source'] }) {
  const color = { seed: 'blue', law: 'purple', default: 'default', unmarked: 'red' }[source];
  return <Tag color={color}>{RULE_SOURCE_LABELS[source] ?? source}</Tag>;
}

/** An amount of integer 元 in 万元 on one line (table cells). */
export function Wan({ yuan }: { yuan: number | null | undefined }) {
  return <span style={{ whiteSpace: 'nowrap' }}>{wan(yuan)}</span>;
}
