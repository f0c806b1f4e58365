/** 待办: the organisation's open tasks, earliest deadline first, with working days left and the escalation level. */
import { Link, useSearchParams } from 'react-router-dom';
import { useQuery } from '@tanstack/react-query';
import { Badge, Card, Checkbox, Input, Select, Space, Table, Tag } from 'antd';
import { get } from '../api';
import { PageTitle, QueryView } from '../components/common';
import { ESCALATION_LABELS, formatDate, stageLabel, TASK_KIND_LABELS } from '../format';
import type { InboxTask } from '../types';

export function DaysLeft({ days, dueAt }: { days: number | null | undefined; dueAt: string | null }) {
  if (!dueAt) return <span>无期限</span>;
  if (days === null || days === undefined) return <span>日历未覆盖</span>;
  if (days < 0) return <Tag color="red">逾期 {-days} 个工作日</Tag>;
  if (days === 0) return <Tag color="orange">今天到期</Tag>;
  return <Tag color={days <= 3 ? 'gold' : 'default'}>剩余 {days} 个工作日</Tag>;
}

export function EscalationBadge({ level }: { level: number }) {
  if (!level) return <span style={{ color: '#999' }}>—</span>;
  return (
    <Badge
      color={level >= 3 ? '#cf1322' : level === 2 ? '#fa541c' : '#faad14'}
      text={ESCALATION_LABELS[level] ?? `${level} 级督办`}
    />
  );
}

export default function InboxPage() {
  const [params, setParams] = useSearchParams();
  const inbox = useQuery({
    queryKey: ['inbox'],
    queryFn: () => get<{ org: string; tasks: (InboxTask & { workingDaysLeft?: number | null })[] }>('/tasks'),
    refetchInterval: 30_000,
  });
  const kind = params.get('kind') ?? '';
  const q = params.get('q') ?? '';
  const overdueOnly = params.get('overdue') === '1';
  const page = Number(params.get('page') ?? '1') || 1;
  const set = (k: string, v: string) => {
    const next = new URLSearchParams(params);
    if (v) next.set(k, v);
    else next.delete(k);
    if (k !== 'page') next.delete('page');
    setParams(next, { replace: true });
  };

  return (
    <>
      <PageTitle>待办</PageTitle>
      <Card>
        <Space wrap style={{ marginBottom: 16 }}>
          <Select
            aria-label="事项类型"
            style={{ width: 160 }}
            value={kind}
            onChange={(v) => set('kind', v)}
            options={[
              { value: '', label: '全部类型' },
              ...Object.entries(TASK_KIND_LABELS).map(([v, l]) => ({ value: v, label: l })),
            ]}
          />
          <Input.Search
            aria-label="搜索项目名称"
            placeholder="项目名称"
            allowClear
            defaultValue={q}
            onSearch={(v) => set('q', v.trim())}
            style={{ width: 220 }}
          />
          <Checkbox checked={overdueOnly} onChange={(e) => set('overdue', e.target.checked ? '1' : '')}>
            只看逾期
          </Checkbox>
        </Space>
        <QueryView query={inbox}>
          {(data) => {
            const rows = data.tasks
              .filter((t) => !kind || t.kind === kind)
              .filter((t) => !q || t.projectName.includes(q))
              .filter(
                (t) =>
                  !overdueOnly ||
                  (t.workingDaysLeft ?? 0) < 0 ||
                  (t.dueAt !== null && new Date(t.dueAt) < new Date()),
              );
            return (
              <Table
                data-testid="inbox-table"
                rowKey="taskId"
                dataSource={rows}
                scroll={{ x: 900 }}
                locale={{ emptyText: '暂无待办' }}
                pagination={{
                  current: page,
                  pageSize: 20,
                  showTotal: (n) => `共 ${n} 项`,
                  onChange: (p) => set('page', String(p)),
                }}
                columns={[
                  {
                    title: '项目',
                    dataIndex: 'projectName',
                    render: (name: string, t) => (
                      <Link to={`/tasks/${encodeURIComponent(t.taskId)}`}>{name}</Link>
                    ),
                  },
                  { title: '事项', dataIndex: 'title' },
                  {
                    title: '类型',
                    dataIndex: 'kind',
                    width: 100,
                    render: (k: string) => TASK_KIND_LABELS[k] ?? k,
                  },
                  { title: '阶段', dataIndex: 'stage', width: 100, render: (s: string) => stageLabel(s) },
                  {
                    title: '办理期限',
                    dataIndex: 'dueAt',
                    width: 150,
                    render: (d: string | null) => formatDate(d),
                  },
                  {
                    title: '剩余',
                    dataIndex: 'workingDaysLeft',
                    width: 150,
                    render: (d: number | null | undefined, t) => <DaysLeft days={d} dueAt={t.dueAt} />,
                  },
                  {
                    title: '督办',
                    dataIndex: 'escalationLevel',
                    width: 120,
                    render: (l: number) => <EscalationBadge level={l} />,
                  },
                ]}
              />
            );
          }}
        </QueryView>
      </Card>
    </>
  );
}
