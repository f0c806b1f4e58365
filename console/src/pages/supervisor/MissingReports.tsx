/**
 * 月报缺报: the projects whose monthly progress report of a month fell due and was not filed, by county and
 * responsible department. Month, filters and page in the URL.
 */
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { Button, Card, Col, DatePicker, Row, Select, Space, Statistic, Table } from 'antd';
import dayjs from 'dayjs';
import { get } from '../../api';
import { PageTitle, QueryView, useOrgs } from '../../components/common';
import { filingColumns } from './DataQuality';
import { AsOf, ExportButton, periodLabel, useUrlFilters } from './shared';
import type { Filing, MissingReports } from './types';

export default function MissingReportsPage() {
  const { value, set, page } = useUrlFilters();
  const period = /^\d{4}-(0[1-9]|1[0-2])$/.test(value('period')) ? value('period') : '';
  const county = value('county');
  const department = value('department');
  const orgs = useOrgs();
  const filters = { period, county, department };
  const list = useQuery({
    queryKey: ['supervision', 'missing-reports', filters],
    queryFn: () => get<MissingReports>('/supervision/missing-reports', filters),
    placeholderData: keepPreviousData,
    staleTime: 30_000,
  });
  const orgOptions = (kind: string) =>
    (orgs.data ?? []).filter((o) => o.kind === kind).map((o) => ({ value: o.id, label: o.name }));
  const shown = list.data?.period ?? period;

  return (
    <>
      <PageTitle
        extra={
          <Space wrap>
            {list.data?.asOf && <AsOf at={list.data.asOf} />}
            <ExportButton
              type="primary"
              path="/supervision/missing-reports"
              query={{ ...filters, period: shown, format: 'xlsx' }}
              disabled={!list.data || list.data.missing.length === 0}
            >
              导出 Excel
            </ExportButton>
          </Space>
        }
      >
        月报缺报
      </PageTitle>
      <Card>
        <Space wrap style={{ marginBottom: 16 }}>
          <DatePicker
            picker="month"
            aria-label="报送月份"
            allowClear={false}
            value={shown ? dayjs(`${shown}-01`) : null}
            disabledDate={(d) => d.isAfter(dayjs(), 'month')}
            onChange={(d) => set({ period: d ? d.format('YYYY-MM') : '' })}
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
            options={orgOptions('COUNTY')}
          />
          <Select
            aria-label="责任部门"
            placeholder="全部责任部门"
            allowClear
            showSearch
            optionFilterProp="label"
            style={{ width: 220 }}
            value={department || undefined}
            onChange={(v?: string) => set({ department: v })}
            options={orgOptions('DEPARTMENT')}
          />
          {(period || county || department) && (
            <Button onClick={() => set({ period: '', county: '', department: '' })}>恢复默认</Button>
          )}
        </Space>
        <QueryView query={list}>
          {(data) => (
            <Space direction="vertical" size={16} style={{ width: '100%' }}>
              <Row gutter={[16, 16]}>
                <Col xs={12} md={6}>
                  <Statistic title={`${periodLabel(data.period)}月报应报（个）`} value={data.owed} />
                </Col>
                <Col xs={12} md={6}>
                  <Statistic
                    title="未报（个）"
                    value={data.missing.length}
                    valueStyle={data.missing.length ? { color: '#cf1322' } : undefined}
                  />
                </Col>
                <Col xs={24} md={12}>
                  <div style={{ lineHeight: 1.8 }}>
                    <div>
                      <b>按县区：</b>
                      {data.byCounty.length
                        ? data.byCounty.map((c) => `${c.name} ${c.missing}`).join('，')
                        : '—'}
                    </div>
                    <div>
                      <b>按责任部门：</b>
                      {data.byDepartment.length
                        ? data.byDepartment.map((c) => `${c.name} ${c.missing}`).join('，')
                        : '—'}
                    </div>
                  </div>
                </Col>
              </Row>
              <Table<Filing>
                data-testid="missing-reports-table"
                rowKey="projectId"
                size="middle"
                dataSource={data.missing}
                columns={filingColumns}
                scroll={{ x: 900 }}
                locale={{ emptyText: data.owed ? '本月份月报均已报送' : '该月份没有应报月报的项目' }}
                pagination={{
                  current: page,
                  pageSize: 20,
                  showTotal: (n) => `共 ${n} 项`,
                  onChange: (p) => set({ page: p }),
                }}
              />
            </Space>
          )}
        </QueryView>
      </Card>
    </>
  );
}
