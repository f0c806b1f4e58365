/**
 * How the console writes what people read: dates in Asia/Shanghai as 2026年12月2日, amounts in 万元 with
 * thousands separators (the engine keeps integer 元; the conversion here is exact, never through floating
 * point), and the seed's names for stages, libraries and task kinds.
 */
import { STAGE_LABELS, libraryOf, type Stage } from '../../domain/project';
import type { Role } from './session';

export { STAGE_LABELS, libraryOf };
export type { Stage };

const TZ = 'Asia/Shanghai';
const dateFmt = new Intl.DateTimeFormat('zh-CN', {
  timeZone: TZ,
  year: 'numeric',
  month: 'long',
  day: 'numeric',
});
const timeFmt = new Intl.DateTimeFormat('zh-CN', {
  timeZone: TZ,
  hour: '2-digit',
  minute: '2-digit',
  hour12: false,
});

type Instant = string | number | Date | null | undefined;

function toDate(v: Instant): Date | null {
  if (v === null || v === undefined || v === '') return null;
  const d = v instanceof Date ? v : new Date(v);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** 2026年12月2日 */
export function formatDate(v: Instant): string {
  const d = toDate(v);
  return d ? dateFmt.format(d) : '—';
}

/** 2026年12月2日 14:05 */
export function formatDateTime(v: Instant): string {
  const d = toDate(v);
  return d ? `${dateFmt.format(d)} ${timeFmt.format(d)}` : '—';
}

/** A calendar day (YYYY-MM-DD, already a Shanghai day) as 2026年12月2日, without a time-zone shift. */
export function formatDay(day: string | null | undefined): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day ?? '');
  return m ? `${m[1]}年${Number(m[2])}月${Number(m[3])}日` : '—';
}

/** The Shanghai calendar month of an instant, YYYY-MM. */
export function shanghaiMonth(v: Instant = Date.now()): string {
  const d = toDate(v) ?? new Date();
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: TZ,
    year: 'numeric',
    month: '2-digit',
  }).formatToParts(d);
  return `${parts.find((p) => p.type === 'year')?.value}-${parts.find((p) => p.type === 'month')?.value}`;
}

const grouped = (digits: string) => digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');

/** Integer 元 as 万元: 350000000 → "35,000", 123456789 → "12,345.6789" (exact). */
export function formatWan(yuan: number | null | undefined): string {
  if (yuan === null || yuan === undefined || !Number.isFinite(yuan)) return '—';
  const negative = yuan < 0;
  const abs = Math.abs(Math.trunc(yuan));
  const whole = Math.floor(abs / 10_000);
  const rest = String(abs % 10_000)
    .padStart(4, '0')
    .replace(/0+$/, '');
  return `${negative ? '-' : ''}${grouped(String(whole))}${rest ? `.${rest}` : ''}`;
}

export const wan = (yuan: number | null | undefined) => `${formatWan(yuan)} 万元`;

/**
 * What a person typed in 万元 (up to 4 decimals: 1 元) as integer 元, exactly; undefined when it is not a number.
 * A minus sign is kept, so the API can say why a negative amount is refused.
 */
export function wanToYuan(input: string | number | null | undefined): number | undefined {
  if (input === null || input === undefined) return undefined;
  const s = String(input).trim().replace(/,/g, '');
  const m = /^(-?)(\d+)(?:\.(\d{1,4}))?$/.exec(s);
  if (!m) return undefined;
  const yuan = Number(m[2]) * 10_000 + Number((m[3] ?? '').padEnd(4, '0') || '0');
  return m[1] ? -yuan : yuan;
}

/** Integer 元 to the 万元 text a form shows. */
export function yuanToWanText(yuan: number | null | undefined): string {
  return yuan === null || yuan === undefined ? '' : formatWan(yuan).replace(/,/g, '');
}

export const ROLE_LABELS: Record<Role, string> = {
  applicant: '项目单位',
  reviewer: '审核部门',
  leader: '专项推进组 / 领导小组',
  supervisor: '督查 / 项目办',
  admin: '管理员',
};

export const TASK_KIND_LABELS: Record<string, string> = {
  REVIEW: '评审',
  APPROVAL_MATTER: '审批事项',
  STEP: '办理事项',
  REPORT: '报送',
  GATE: '关口审核',
  BLOCKER: '问题协调',
  CHANGE_REQUEST: '调整申请',
  EXPERT: '专家评审',
  MATTER: '事项',
};

export const DECISION_LABELS: Record<string, string> = {
  PASS: '通过',
  RETURN: '退回修改',
  REJECT: '不通过',
};

export const ESCALATION_LABELS = ['未升级', '一级督办', '二级督办', '三级督办', '四级督办'];

export const LIBRARIES = ['谋划', '储备', '前期', '实施'] as const;

export function stageLabel(stage: string | null | undefined): string {
  return (stage && (STAGE_LABELS as Record<string, string>)[stage]) || stage || '—';
}

/** A trail entry's free-form field as text (absent or not a string: empty). */
export function textOf(v: unknown): string {
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '';
}
