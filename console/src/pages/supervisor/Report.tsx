/**
 * One stored report snapshot: each of its tables as the exports lay them out (the server's tables, so the screen
 * and the .xlsx/.csv agree), each downloadable as .xlsx and .csv.
 */
import { Link, useParams } from 'react-router-dom';
import { useQuery } from '@tanstack/react-query';
import { Breadcrumb, Card, Descriptions, Space, Table, Tabs } from 'antd';
import { get } from '../../api';
import { PageTitle, QueryView } from '../../components/common';
import { formatDateTime } from '../../format';
import { ApprovalTag } from './Reports';
import { ExportButton, formatDecimal, Points, reportName } from './shared';
import type { Cell, Sheet, SnapshotTables } from './types';

function SheetTable({ sheet, testId }: { sheet: Sheet; testId: string }) {
  const rows = sheet.rows.map((cells, i) => ({ key: i, cells }));
  return (
    <Table
      data-testid={testId}
      size="small"
      bordered
      dataSource={rows}
      scroll={{ x: Math.max(600, sheet.columns.length * 120) }}
      pagination={
        rows.length > 20 ? { pageSize: 20, showTotal: (n) => `共 ${n} 行`, showSizeChanger: false } : false
      }
      locale={{ emptyText: '无' }}
      columns={sheet.columns.map((c, i) => ({
        key: i,
        title: c.header,
        width: c.type === 'text' ? undefined : 110,
        align: c.type === 'text' ? ('left' as const) : ('right' as const),
        render: (_: unknown, r: { cells: Cell[] }) => {
          const v = r.cells[i];
          if (v === null || v === undefined || v === '') return '—';
          if (c.type === 'points') return <Points value={String(v)} />;
          if (c.type === 'decimal') return formatDecimal(v);
          return String(v);
        },
      }))}
    />
  );
}

export default function ReportPage() {
  const { id = '' } = useParams();
  const snapshot = useQuery({
    queryKey: ['supervision', 'report', id],
    queryFn: () => get<SnapshotTables>(`/reports/${id}/tables`),
    staleTime: Infinity, // snapshots never change (only their approval, shown on the list)
  });
  return (
    <>
      <Breadcrumb
        style={{ marginBottom: 8 }}
        items={[{ title: <Link to="/supervision/reports">报告</Link> }, { title: id }]}
      />
      <QueryView query={snapshot}>
        {({ summary, tables }) => (
          <>
            <PageTitle>{reportName(summary.kindLabel, summary.period)}</PageTitle>
            <Space direction="vertical" size={16} style={{ width: '100%' }}>
              <Card size="small">
                <Descriptions
                  size="small"
                  column={{ xs: 1, sm: 2, lg: 3 }}
                  items={[
                    { key: 'id', label: '报告编号', children: summary.id },
                    { key: 'created', label: '生成时间', children: formatDateTime(summary.createdAt) },
                    { key: 'asOf', label: '数据截至', children: formatDateTime(summary.dataAsOf) },
                    { key: 'count', label: '项目数', children: summary.projectCount },
                    { key: 'policy', label: '策略版本', children: summary.policyVersion ?? '—' },
                    { key: 'approval', label: '审定', children: <ApprovalTag approval={summary.approval} /> },
                  ]}
                />
              </Card>
              {tables.map((t) => (
                <Card
                  key={t.key}
                  title={t.title}
                  size="small"
                  data-testid={`report-section-${t.key}`}
                  extra={
                    t.exportable && (
                      <Space wrap>
                        <ExportButton
                          path={`/reports/${summary.id}`}
                          query={{ table: t.key, format: 'xlsx' }}
                        >
                          下载 Excel
                        </ExportButton>
                        <ExportButton path={`/reports/${summary.id}`} query={{ table: t.key, format: 'csv' }}>
                          下载 CSV
                        </ExportButton>
                      </Space>
                    )
                  }
                >
                  {t.sheets.length === 1 ? (
                    <SheetTable sheet={t.sheets[0]!} testId={`report-table-${t.key}`} />
                  ) : (
                    <Tabs
                      items={t.sheets.map((s, i) => ({
                        key: String(i),
                        label: `${s.name}${s.name === '口径说明' ? '' : `（${s.rows.length}）`}`,
                        children: <SheetTable sheet={s} testId={`report-table-${t.key}-${i}`} />,
                      }))}
                    />
                  )}
                </Card>
              ))}
            </Space>
          </>
        )}
      </QueryView>
    </>
  );
}
