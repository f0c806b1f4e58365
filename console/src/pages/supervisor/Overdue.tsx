/**
 * 逾期清单: every open task past its deadline, live, most overdue first; filters and page in the URL; 「导出 Excel」
 * downloads the rows matching the filters shown, computed for the same instant as the list on screen.
 */
import { Link } from 'react-router-dom';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { Button, Card, Select, Space, Table, Tag, Tooltip } from 'antd';
import { get } from '../../api';
import { PageTitle, QueryView } from '../../components/common';
import { formatDate } from '../../format';
import { AsOf, EscalationTag, ExportButton, levelLabel, useUrlFilters } from './shared';
import type { OverduePage as OverdueAnswer, OverdueRow } from './types';

const PAGE_SIZES = [20, 50, 100];

export default function OverduePage() {
  const { value, set, page } = useUrlFilters();
  const department = value('department');
  const county = value('county');
  const level = value('level');
  const pageSize = PAGE_SIZES.includes(Number(value('pageSize'))) ? Number(value('pageSize')) : 20;
  const filters = { department, county, level };
  const list = useQuery({
    queryKey: ['supervision', 'overdue', filters, page, pageSize],
    queryFn: () => get<OverdueAnswer>('/supervision/overdue', { ...filters, page, pageSize }),
    placeholderData: keepPreviousData,
    staleTime: 30_000,
  });
  const facets = list.data?.facets;
  const option = (id: string, name: string, count?: number) => ({
    value: id,
    label: count === undefined ? name : `${name}（${count}）`,
  });
  // A filter from a link may name a unit with nothing overdue now: it stays selectable.
  const withCurrent = (opts: { value: string; label: string }[], current: string) =>
    current && !opts.some((o) => o.value === current) ? [...opts, option(current, current, 0)] : opts;
  const filtered = Boolean(department || county || level);

  return (
    <>
      <PageTitle
        extra={
          <Space wrap>
            {list.data && <AsOf at={list.data.asOf} />}
            <ExportButton
              type="primary"
              path="/supervision/overdue"
              query={{ ...filters, asOf: list.data?.asOf, format: 'xlsx' }}
              disabled={!list.data || list.data.total === 0}
            >
              导出 Excel
            </ExportButton>
          </Space>
        }
      >
        逾期清单
      </PageTitle>
      <Card>
        <Space wrap style={{ marginBottom: 16 }}>
          <Select
            aria-label="责任单位"
            placeholder="全部责任单位"
            allowClear
            showSearch
            optionFilterProp="label"
            style={{ width: 240 }}
            value={department || undefined}
            onChange={(v?: string) => set({ department: v })}
            options={withCurrent(
              facets?.departments.map((f) => option(f.orgId, f.name, f.count)) ?? [],
              department,
            )}
          />
          <Select
            aria-label="县（市、区）"
            placeholder="全部县（市、区）"
            allowClear
            showSearch
            optionFilterProp="label"
            style={{ width: 200 }}
            value={county || undefined}
            onChange={(v?: string) => set({ county: v })}
            options={withCurrent(facets?.counties.map((f) => option(f.orgId, f.name, f.count)) ?? [], county)}
          />
          <Select
            aria-label="督办级别"
            placeholder="全部督办级别"
            allowClear
            style={{ width: 170 }}
            value={level || undefined}
            onChange={(v?: string) => set({ level: v })}
            options={withCurrent(
              facets?.levels.map((f) => option(String(f.level), levelLabel(f.level), f.count)) ?? [],
              level,
            )}
          />
          {filtered && (
            <Button onClick={() => set({ department: '', county: '', level: '' })}>清除筛选</Button>
          )}
        </Space>
        <QueryView query={list}>
          {(data) => (
            <Table<OverdueRow>
              data-testid="overdue-table"
              rowKey="taskId"
              size="middle"
              loading={list.isFetching && list.isPlaceholderData}
              dataSource={data.rows}
              scroll={{ x: 1040 }}
              locale={{ emptyText: filtered ? '没有符合条件的逾期事项' : '当前没有逾期事项' }}
              pagination={{
                current: data.page,
                pageSize: data.pageSize,
                total: data.total,
                showSizeChanger: true,
                pageSizeOptions: PAGE_SIZES,
                showTotal: (n) => `共 ${n} 项`,
                onChange: (p, size) =>
                  set({ page: size !== pageSize ? 1 : p, pageSize: size === 20 ? '' : size }),
              }}
              columns={[
                {
                  title: '项目名称',
                  dataIndex: 'projectName',
                  width: 200,
                  fixed: 'left',
                  render: (name: string, r) => (
                    <Link to={`/projects/${encodeURIComponent(r.projectId)}`}>{name}</Link>
                  ),
                },
                { title: '逾期事项', dataIndex: 'task', width: 180 },
                { title: '责任单位', dataIndex: 'responsibleOrg', width: 140 },
                { title: '县（市、区）', dataIndex: 'county', width: 100 },
                {
                  title: '计划完成时限',
                  dataIndex: 'dueAt',
                  width: 140,
                  render: (d: string, r) => (
                    <>
                      {formatDate(d)}
                      {r.provisional && (
                        <Tooltip title="该年度节假日安排未发布，时限按暂定日历计算">
                          <Tag color="purple" style={{ marginLeft: 4 }}>
                            暂定
                          </Tag>
                        </Tooltip>
                      )}
                    </>
                  ),
                },
                {
                  title: '逾期（工作日）',
                  dataIndex: 'workingDaysOverdue',
                  width: 100,
                  align: 'right',
                  render: (n: number) => <span style={{ color: '#cf1322' }}>{n}</span>,
                },
                {
                  title: '督办级别',
                  dataIndex: 'escalationLevel',
                  width: 100,
                  render: (l: number) => <EscalationTag level={l} />,
                },
                {
                  title: '月度通报',
                  dataIndex: 'onMonthlyBulletin',
                  width: 80,
                  render: (b: boolean) => (b ? <Tag color="red">列入</Tag> : '—'),
                },
              ]}
            />
          )}
        </QueryView>
      </Card>
    </>
  );
}
