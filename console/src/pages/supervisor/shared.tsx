/** Pieces the supervision pages share: filters kept in the URL, the export button, levels and numbers in words. */
import { useState, type ReactNode } from 'react';
import { useSearchParams } from 'react-router-dom';
import { App, Button, Tag, Typography } from 'antd';
import { DownloadOutlined } from '@ant-design/icons';
import { ApiProblem, download } from '../../api';
import { problemTitle } from '../../components/common';
import { ESCALATION_LABELS, formatDateTime } from '../../format';

/**
 * A list's filters and page in the URL's search parameters, so a filtered list is a link. Changing a filter goes
 * back to the first page.
 */
export function useUrlFilters() {
  const [params, setParams] = useSearchParams();
  const value = (key: string) => params.get(key) ?? '';
  const set = (changes: Record<string, string | number | null | undefined>) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(changes)) {
      if (v === undefined || v === null || v === '') next.delete(k);
      else next.set(k, String(v));
    }
    if (!('page' in changes)) next.delete('page');
    setParams(next);
  };
  const page = Math.max(1, Number(params.get('page')) || 1);
  return { value, set, page, params };
}

export const LEVEL_COLORS = ['default', 'gold', 'orange', 'volcano', 'red'];

export function levelLabel(level: number): string {
  return ESCALATION_LABELS[level] ?? `${level}级督办`;
}

/** 督办级别 as a tag: 未升级, 一级督办 … 四级督办. */
export function EscalationTag({ level }: { level: number }) {
  return <Tag color={LEVEL_COLORS[Math.min(level, LEVEL_COLORS.length - 1)]}>{levelLabel(level)}</Tag>;
}

/** A button that downloads a server export (.xlsx/.csv) with the signed-in token. */
export function ExportButton({
  path,
  query,
  children,
  disabled,
  type = 'default',
}: {
  path: string;
  query: Record<string, string | number | undefined | null>;
  children: ReactNode;
  disabled?: boolean;
  type?: 'default' | 'primary';
}) {
  const { message } = App.useApp();
  const [busy, setBusy] = useState(false);
  return (
    <Button
      type={type}
      icon={<DownloadOutlined />}
      loading={busy}
      disabled={disabled}
      onClick={async () => {
        setBusy(true);
        try {
          const name = await download(path, query);
          void message.success(`已下载 ${name}`);
        } catch (err) {
          void message.error(err instanceof ApiProblem ? `${problemTitle(err)}：${err.detail}` : '下载失败');
        } finally {
          setBusy(false);
        }
      }}
    >
      {children}
    </Button>
  );
}

/** When the figures were computed. */
export function AsOf({ at, live = true }: { at: string | null | undefined; live?: boolean }) {
  return (
    <Typography.Text type="secondary">
      {live ? '实时数据，' : ''}统计时点：{formatDateTime(at)}
    </Typography.Text>
  );
}

const grouped = (digits: string) => digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');

/** A report's decimal text ("35000.00", "-3.10", "+5.90") with thousands separators; the digits stay as they are. */
export function formatDecimal(s: string | number | null | undefined): string {
  if (s === null || s === undefined || s === '') return '—';
  const m = /^([+-]?)(\d+)(\.\d+)?$/.exec(String(s));
  return m ? `${m[1]}${grouped(m[2]!)}${m[3] ?? ''}` : String(s);
}

/** Percentage points ahead of (+) or behind (−) 序时进度, coloured. */
export function Points({ value }: { value: string | null | undefined }) {
  if (value === null || value === undefined) return <span>—</span>;
  const n = Number(value);
  const color = n < 0 ? '#cf1322' : n > 0 ? '#389e0d' : undefined;
  return (
    <span style={{ color }}>{formatDecimal(n > 0 && !value.startsWith('+') ? `+${value}` : value)}</span>
  );
}

export const KIND_OPTIONS = [
  { value: 'MONTHLY_DISPATCH', label: '月底专题调度会报告' },
  { value: 'QUARTERLY_ADJUSTMENT', label: '季度动态调整' },
  { value: 'QUARTERLY_BULLETIN', label: '季度通报' },
  { value: 'ANNUAL_ASSESSMENT', label: '年度考核' },
] as const;

/** A period as words: 2026-11 → 2026年11月, 2026-Q3 → 2026年第3季度, 2026 → 2026年. */
export function periodLabel(period: string): string {
  const m = /^(\d{4})(?:-(\d{2})|-Q([1-4]))?$/.exec(period);
  if (!m) return period;
  if (m[2]) return `${m[1]}年${Number(m[2])}月`;
  if (m[3]) return `${m[1]}年第${m[3]}季度`;
  return `${m[1]}年`;
}

/** A report's name: 月底专题调度会报告（2026年11月）. */
export function reportName(kindLabel: string, period: string): string {
  return `${kindLabel}（${periodLabel(period)}）`;
}
