/**
 * 数据质量: the 三个清单 gaps, live — live projects without a lead leader or a responsible department, open tasks
 * without a deadline, and the monthly reports due and not filed. Tab, county and page in the URL.
 */
import type { ReactNode } from 'react';
import { Link } from 'react-router-dom';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { Card, Select, Space, Table, Tabs } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { get } from '../../api';
import { PageTitle, QueryView } from '../../components/common';
import { formatDay } from '../../format';
import { AsOf, ExportButton, periodLabel, useUrlFilters } from './shared';
import type { DataQuality, Filing, QualityProjectRow, QualityTaskRow } from './types';

const TABS = ['missingLeader', 'missingDepartment', 'tasksWithoutDeadline', 'missingMonthlyReports'] as const;
type TabKey = (typeof TABS)[number];

const projectLink = (name: string, r: { projectId: string }) => (
  <Link to={`/projects/${encodeURIComponent(r.projectId)}`}>{name}</Link>
);

const projectColumns: ColumnsType<QualityProjectRow> = [
  { title: '项目名称', dataIndex: 'projectName', width: 240, render: projectLink },
  { title: '县（市、区）', dataIndex: 'county', width: 130 },
  { title: '专项推进组', dataIndex: 'portfolio', width: 180 },
  { title: '阶段', dataIndex: 'stage', width: 110 },
];

const taskColumns: ColumnsType<QualityTaskRow> = [
  ...(projectColumns as ColumnsType<QualityTaskRow>),
  { title: '事项', dataIndex: 'task', width: 200 },
  { title: '责任单位', dataIndex: 'responsibleOrg', width: 160 },
  { title: '原因', dataIndex: 'reason', width: 200 },
];

export const filingColumns: ColumnsType<Filing> = [
  { title: '项目名称', dataIndex: 'projectName', width: 240, render: projectLink },
  { title: '县（市、区）', dataIndex: 'countyName', width: 130 },
  { title: '责任部门', dataIndex: 'responsibleDeptName', width: 160 },
  { title: '阶段', dataIndex: 'stage', width: 110 },
  { title: '报送月份', dataIndex: 'period', width: 120, render: (p: string) => periodLabel(p) },
  { title: '应报时限', dataIndex: 'dueAt', width: 150, render: (d: string) => formatDay(d.slice(0, 10)) },
];

export default function DataQualityPage() {
  const { value, set, page } = useUrlFilters();
  const tab: TabKey = (TABS as readonly string[]).includes(value('tab'))
    ? (value('tab') as TabKey)
    : 'missingLeader';
  const county = value('county');
  const quality = useQuery({
    queryKey: ['supervision', 'data-quality', county],
    queryFn: () => get<DataQuality>('/supervision/data-quality', { county }),
    placeholderData: keepPreviousData,
    staleTime: 30_000,
  });
  const pagination = (total: number) => ({
    current: page,
    pageSize: 20,
    total,
    showSizeChanger: false,
    showTotal: (n: number) => `共 ${n} 项`,
    onChange: (p: number) => set({ page: p }),
  });

  return (
    <>
      <PageTitle
        extra={
          <Space wrap>
            {quality.data && <AsOf at={quality.data.asOf} />}
            <ExportButton
              type="primary"
              path="/supervision/data-quality"
              query={{ county, format: 'xlsx' }}
              disabled={!quality.data}
            >
              导出 Excel
            </ExportButton>
          </Space>
        }
      >
        数据质量
      </PageTitle>
      <Card>
        <Space wrap style={{ marginBottom: 8 }}>
          <Select
            aria-label="县（市、区）"
            placeholder="全部县（市、区）"
            allowClear
            showSearch
            optionFilterProp="label"
            style={{ width: 200 }}
            value={county || undefined}
            onChange={(v?: string) => set({ county: v })}
            options={quality.data?.counties.map((c) => ({ value: c.orgId, label: c.name })) ?? []}
          />
        </Space>
        <QueryView query={quality}>
          {(data) => {
            const m = data.missingMonthlyReports;
            const common = {
              size: 'middle' as const,
              'data-testid': 'data-quality-table',
              scroll: { x: 900 },
            };
            const tables: Record<TabKey, { label: string; count: number; node: ReactNode }> = {
              missingLeader: {
                label: '缺少包联领导',
                count: data.missingLeader.length,
                node: (
                  <Table<QualityProjectRow>
                    {...common}
                    rowKey="projectId"
                    dataSource={data.missingLeader}
                    columns={projectColumns}
                    pagination={pagination(data.missingLeader.length)}
                    locale={{ emptyText: '所有在库项目均已明确包联领导' }}
                  />
                ),
              },
              missingDepartment: {
                label: '缺少责任部门',
                count: data.missingDepartment.length,
                node: (
                  <Table<QualityProjectRow>
                    {...common}
                    rowKey="projectId"
                    dataSource={data.missingDepartment}
                    columns={projectColumns}
                    pagination={pagination(data.missingDepartment.length)}
                    locale={{ emptyText: '所有在库项目均已明确责任部门' }}
                  />
                ),
              },
              tasksWithoutDeadline: {
                label: '节点缺少时限',
                count: data.tasksWithoutDeadline.length,
                node: (
                  <Table<QualityTaskRow>
                    {...common}
                    rowKey="taskId"
                    dataSource={data.tasksWithoutDeadline}
                    columns={taskColumns}
                    pagination={pagination(data.tasksWithoutDeadline.length)}
                    scroll={{ x: 1300 }}
                    locale={{ emptyText: '所有在办事项均已设定时限' }}
                  />
                ),
              },
              missingMonthlyReports: {
                label: '月报未报',
                count: m.missing.length,
                node: (
                  <>
                    <p>
                      {periodLabel(m.period)}月报应报 {m.owed} 个，未报 {m.missing.length} 个。
                      <Link to={`/supervision/missing-reports${county ? `?county=${county}` : ''}`}>
                        按月份查看
                      </Link>
                    </p>
                    <Table<Filing>
                      {...common}
                      rowKey="projectId"
                      dataSource={m.missing}
                      columns={filingColumns}
                      pagination={pagination(m.missing.length)}
                      locale={{ emptyText: '无未报月报' }}
                    />
                  </>
                ),
              },
            };
            return (
              <Tabs
                activeKey={tab}
                onChange={(k) => set({ tab: k === 'missingLeader' ? '' : k })}
                items={TABS.map((k) => ({
                  key: k,
                  label: `${tables[k].label}（${tables[k].count}）`,
                  children: tables[k].node,
                }))}
              />
            );
          }}
        </QueryView>
      </Card>
    </>
  );
}
