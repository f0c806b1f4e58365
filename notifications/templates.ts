// Chinese subject and body text per template kind. Times are stored in UTC and shown in Asia/Shanghai.
// Rendering is tolerant: a missing payload field shows a placeholder rather than failing, because a
// notification with a gap is better than none, and a rendering error must never reach the project workflow.

export const TEMPLATE_KINDS = ['REMINDER', 'ESCALATION', 'REPORT_READY', 'GENERIC'] as const;
export type TemplateKind = (typeof TEMPLATE_KINDS)[number];

export interface RenderedMessage {
  subject: string;
  text: string;
}

/** Payload fields each template reads (all optional; unknown fields are kept in the payload, not rendered). */
export interface ReminderPayload {
  projectName?: string;
  taskTitle?: string;
  /** ISO 8601 string or epoch ms. */
  dueAt?: string | number;
  workingDaysLeft?: number;
  link?: string;
}

export interface EscalationPayload {
  projectName?: string;
  taskTitle?: string;
  dueAt?: string | number;
  overdueWorkingDays?: number;
  level?: number;
  /** Who handles this level, from the policy's escalation ladder (e.g. 领导小组). */
  levelLabel?: string;
  responsibleOrgName?: string;
  link?: string;
}

export interface ReportReadyPayload {
  reportTitle?: string;
  period?: string;
  generatedAt?: string | number;
  link?: string;
}

export interface GenericPayload {
  subject?: string;
  text?: string;
}

const PLACEHOLDER = '（未填写）';

export function isTemplateKind(value: string): value is TemplateKind {
  return (TEMPLATE_KINDS as readonly string[]).includes(value);
}

const shanghai = new Intl.DateTimeFormat('zh-CN', {
  timeZone: 'Asia/Shanghai',
  year: 'numeric',
  month: 'numeric',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

/** `2025年10月30日 17:00` in Asia/Shanghai, or undefined when the value is not a time. */
export function formatShanghaiTime(value: unknown): string | undefined {
  if (typeof value !== 'string' && typeof value !== 'number' && !(value instanceof Date)) return undefined;
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) return undefined;
  const part = (type: Intl.DateTimeFormatPartTypes) =>
    shanghai.formatToParts(date).find((p) => p.type === type)?.value ?? '';
  return `${part('year')}年${part('month')}月${part('day')}日 ${part('hour')}:${part('minute')}`;
}

function str(payload: Record<string, unknown>, key: string): string | undefined {
  const v = payload[key];
  if (typeof v === 'string' && v.trim() !== '') return v.trim();
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

function num(payload: Record<string, unknown>, key: string): number | undefined {
  const v = payload[key];
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
}

function lines(...parts: (string | undefined | false)[]): string {
  return parts.filter((p): p is string => typeof p === 'string' && p !== '').join('\n');
}

function linkLine(payload: Record<string, unknown>): string | undefined {
  const link = str(payload, 'link');
  return link ? `详情：${link}` : undefined;
}

const FOOTER = '（本消息由重大项目全链条管理系统自动发送，时间均为北京时间。）';

function renderReminder(p: Record<string, unknown>, greeting: string | undefined): RenderedMessage {
  const project = str(p, 'projectName') ?? PLACEHOLDER;
  const task = str(p, 'taskTitle') ?? PLACEHOLDER;
  const due = formatShanghaiTime(p.dueAt) ?? PLACEHOLDER;
  const left = num(p, 'workingDaysLeft');
  const today = left !== undefined && left <= 0 ? '（今日）' : '';
  const remaining = left !== undefined && left > 0 ? `，剩余 ${left} 个工作日` : '';
  return {
    subject: `【提醒】${project}「${task}」将于${due}到期`,
    text: lines(
      greeting,
      `项目「${project}」的事项「${task}」将于 ${due}${today} 到期${remaining}，请及时办理。`,
      linkLine(p),
      FOOTER,
    ),
  };
}

function renderEscalation(p: Record<string, unknown>, greeting: string | undefined): RenderedMessage {
  const project = str(p, 'projectName') ?? PLACEHOLDER;
  const task = str(p, 'taskTitle') ?? PLACEHOLDER;
  const overdue = num(p, 'overdueWorkingDays');
  const overdueText = overdue === undefined ? '已逾期' : `已逾期 ${overdue} 个工作日`;
  const overdueShort = overdue === undefined ? '已逾期' : `已逾期${overdue}个工作日`;
  const level = num(p, 'level');
  const levelLabel = str(p, 'levelLabel');
  const levelText =
    level === undefined ? undefined : `现启动第 ${level} 级督办${levelLabel ? `（${levelLabel}）` : ''}。`;
  const due = formatShanghaiTime(p.dueAt);
  const org = str(p, 'responsibleOrgName');
  return {
    subject: `【督办】${project}「${task}」${overdueShort}`,
    text: lines(
      greeting,
      `项目「${project}」的事项「${task}」${due ? `原定 ${due} 到期，` : ''}${overdueText}。`,
      org && `责任单位：${org}`,
      levelText,
      '请督促责任单位尽快办理并反馈办理情况。',
      linkLine(p),
      FOOTER,
    ),
  };
}

function renderReportReady(p: Record<string, unknown>, greeting: string | undefined): RenderedMessage {
  const title = str(p, 'reportTitle') ?? '报告';
  const period = str(p, 'period');
  const generated = formatShanghaiTime(p.generatedAt);
  return {
    subject: `【报告】${period ? `${period} ` : ''}${title}已生成`,
    text: lines(
      greeting,
      `${period ? `${period} ` : ''}${title}已生成${generated ? `（生成时间 ${generated}）` : ''}，请查阅。`,
      linkLine(p),
      FOOTER,
    ),
  };
}

function renderGeneric(p: Record<string, unknown>, greeting: string | undefined): RenderedMessage {
  return {
    subject: `【通知】${str(p, 'subject') ?? '系统通知'}`,
    text: lines(greeting, str(p, 'text') ?? str(p, 'body') ?? '', FOOTER),
  };
}

/**
 * Renders one notification. `recipientName` (a person's name) becomes the greeting line; an unknown template
 * kind falls back to GENERIC so the message is still delivered.
 */
export function renderTemplate(
  template: string,
  payload: Record<string, unknown>,
  recipientName?: string,
): RenderedMessage {
  const greeting = recipientName ? `${recipientName}：` : undefined;
  switch (isTemplateKind(template) ? template : 'GENERIC') {
    case 'REMINDER':
      return renderReminder(payload, greeting);
    case 'ESCALATION':
      return renderEscalation(payload, greeting);
    case 'REPORT_READY':
      return renderReportReady(payload, greeting);
    case 'GENERIC':
      return renderGeneric(payload, greeting);
  }
}
