import { useEffect, useState, useSyncExternalStore, type ReactNode } from 'react';
import { useQuery, type UseQueryResult } from '@tanstack/react-query';
import { Alert, Button, Empty, Input, Result, Skeleton, type FormInstance } from 'antd';
import { ApiProblem, get } from '../api';
import { currentSession, onSessionChange, type Session } from '../session';
import { wanToYuan } from '../format';

let cached: { token: string | null; session: Session | null } = { token: null, session: null };
function snapshot(): Session | null {
  const token = sessionStorage.getItem('project-pipeline.token');
  if (token !== cached.token) cached = { token, session: currentSession() };
  return cached.session;
}

/** The signed-in person (re-rendered on sign-in and sign-out). */
export function useSession(): Session | null {
  return useSyncExternalStore(onSessionChange, snapshot);
}

const STATUS_WORDS: Record<number, string> = {
  0: '无法连接服务',
  400: '输入有误',
  401: '登录已失效',
  403: '无权访问',
  404: '未找到',
  409: '当前状态不允许此操作',
  412: '数据已被他人修改，请刷新后重试',
  413: '内容过大',
  415: '文件类型不支持',
  422: '不符合业务规则',
  428: '需要先读取最新版本',
  429: '请求过于频繁，请稍后再试',
  500: '服务内部错误',
  503: '服务暂不可用',
  504: '未能及时确认，可安全重试',
};

export function problemTitle(p: ApiProblem): string {
  return STATUS_WORDS[p.status] ?? p.title;
}

/** A problem+json answer in words, with "重试" where retrying can help. */
export function ProblemAlert({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const p = error instanceof ApiProblem ? error : new ApiProblem(0, '出错了', String(error));
  const fieldLines = p.errors.map((e) => `${e.path || e.in}：${e.message}`);
  return (
    <Alert
      type={p.status === 403 ? 'warning' : 'error'}
      showIcon
      role="alert"
      message={problemTitle(p)}
      description={
        <div>
          {/* A validation failure is said by its title and its fields; the generic detail adds nothing. */}
          {p.detail && !(p.status === 400 && fieldLines.length) && <div>{p.detail}</div>}
          {fieldLines.map((l) => (
            <div key={l}>{l}</div>
          ))}
          {p.requestId && <div style={{ color: '#999', fontSize: 12 }}>请求编号 {p.requestId}</div>}
        </div>
      }
      action={
        onRetry && p.retryable ? (
          <Button size="small" onClick={onRetry}>
            重试
          </Button>
        ) : undefined
      }
    />
  );
}

/** 无权访问: what a direct link to something not one's own shows. */
export function Forbidden({ detail }: { detail?: string }) {
  return <Result status="403" title="无权访问" subTitle={detail ?? '您所在单位或角色不能查看或办理此项。'} />;
}

/** Loading, error (in words, with retry) and empty states around one query. */
export function QueryView<T>({
  query,
  children,
  isEmpty,
  empty,
}: {
  query: UseQueryResult<T>;
  children: (data: T) => ReactNode;
  isEmpty?: (data: T) => boolean;
  empty?: ReactNode;
}) {
  if (query.isPending) return <Skeleton active paragraph={{ rows: 4 }} />;
  if (query.isError) {
    if (query.error instanceof ApiProblem && (query.error.status === 403 || query.error.status === 404))
      return query.error.status === 403 ? (
        <Forbidden />
      ) : (
        <Result status="404" title="未找到" subTitle={query.error.detail} />
      );
    return <ProblemAlert error={query.error} onRetry={() => void query.refetch()} />;
  }
  if (isEmpty?.(query.data)) return <>{empty ?? <Empty description="暂无数据" />}</>;
  return <>{children(query.data)}</>;
}

/**
 * Puts the API's field errors beside the form fields they name (`errors[].path` as the field path); returns the
 * problem when some errors name no field of this form, so the page shows them above it.
 */
export function showFieldErrors(
  form: FormInstance,
  error: unknown,
  fieldNames?: (path: string) => (string | number)[],
) {
  if (!(error instanceof ApiProblem)) return error;
  // Registered fields only (getFieldsValue without arguments), so an error naming no field here stays visible.
  const known = new Set(Object.keys((form.getFieldsValue() ?? {}) as Record<string, unknown>));
  const nameOf = (path: string) =>
    fieldNames ? fieldNames(path) : path.split('.').map((s) => (/^\d+$/.test(s) ? Number(s) : s));
  const byField = new Map<string, { name: (string | number)[]; errors: string[] }>();
  let unplaced = 0;
  for (const e of error.errors) {
    const name = e.in === 'body' && e.path ? nameOf(e.path) : [];
    if (!name.length || !known.has(String(name[0]))) {
      unplaced += 1;
      continue;
    }
    const key = name.join('.');
    const entry = byField.get(key) ?? { name, errors: [] };
    entry.errors.push(e.message);
    byField.set(key, entry);
  }
  form.setFields([...byField.values()].map(({ name, errors }) => ({ name, errors: [...new Set(errors)] })));
  return byField.size > 0 && unplaced === 0 ? null : error;
}

export interface OrgRef {
  id: string;
  name: string;
  kind: string;
}

/** The organisations of the policy (names for ids), read once per tab. */
export function useOrgs() {
  return useQuery({
    queryKey: ['orgs'],
    queryFn: () => get<{ orgs: OrgRef[] }>('/orgs'),
    staleTime: Infinity,
    select: (d) => d.orgs,
  });
}

export function useOrgName(): (id: string | null | undefined) => string {
  const orgs = useOrgs();
  return (id) => (id ? (orgs.data?.find((o) => o.id === id)?.name ?? id) : '—');
}

export function PageTitle({ children, extra }: { children: ReactNode; extra?: ReactNode }) {
  return (
    <div
      style={{
        display: 'flex',
        alignItems: 'center',
        justifyContent: 'space-between',
        marginBottom: 16,
        gap: 8,
        flexWrap: 'wrap',
      }}
    >
      <h1 style={{ fontSize: 20, margin: 0 }}>{children}</h1>
      {extra}
    </div>
  );
}

/** The present instant, refreshed every minute (for "overdue" and "working days left" as time passes). */
export function useNow(everyMs = 60_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(t);
  }, [everyMs]);
  return now;
}

/** A list's text filter: applied on Enter, kept in the URL by `onSearch` (re-keyed so a URL change resets it). */
export function UrlSearch({
  value,
  onSearch,
  placeholder = '输入名称后回车',
  width = 200,
}: {
  value: string;
  onSearch: (v: string) => void;
  placeholder?: string;
  width?: number;
}) {
  return (
    <Input.Search
      allowClear
      key={value}
      defaultValue={value}
      onSearch={(v) => onSearch(v.trim())}
      style={{ width }}
      placeholder={placeholder}
    />
  );
}

/** An amount typed in 万元: at most four decimals (1 元), checked before the API sees it. */
export const wanRule = {
  validator: (_: unknown, value: string) =>
    value === undefined || value === '' || wanToYuan(value) !== undefined
      ? Promise.resolve()
      : Promise.reject(new Error('请输入以万元计的金额，最多四位小数')),
};
