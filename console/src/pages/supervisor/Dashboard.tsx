/**
 * 总览: the four libraries as a funnel, investment against 序时进度 by month, overdue tasks by unit and county, open
 * blockers by escalation level, and the latest 比晾晒 with its red and black lists.
 */
import { useMemo } from 'react';
import { Link, useNavigate } from 'react-router-dom';
import { useQuery } from '@tanstack/react-query';
import { Card, Col, Empty, Row, Space, Statistic, Table, Tabs, Tag, Typography } from 'antd';
import { get } from '../../api';
import { PageTitle, QueryView } from '../../components/common';
import { formatDateTime, formatWan } from '../../format';
import { Chart, DataTable, type ChartOption } from './Chart';
import { AsOf, formatDecimal, KIND_OPTIONS, levelLabel, Points, reportName } from './shared';
import type { Dashboard, ListEntry, MonthInvestment, OrgCount, RankingRow } from './types';

const COLORS = ['#5470c6', '#91cc75', '#fac858', '#ee6666'];
/** 万元 as a number for a chart's scale only; every figure shown in words comes from the exact 元. */
const wanNumber = (yuan: number) => yuan / 10_000;

function LibraryFunnel({ data }: { data: Dashboard }) {
  const option = useMemo<ChartOption>(
    () => ({
      color: COLORS,
      tooltip: {
        trigger: 'item',
        formatter: (p) => {
          const item = p as unknown as { dataIndex: number };
          const l = data.libraries[item.dataIndex]!;
          return `${l.library}库：${l.projects} 个<br/>总投资 ${formatWan(l.investment.yuan)} 万元`;
        },
      },
      series: [
        {
          type: 'funnel',
          sort: 'none',
          minSize: '20%',
          left: '10%',
          width: '80%',
          gap: 2,
          label: { position: 'inside', formatter: '{b}：{c} 个', color: '#fff' },
          data: data.libraries.map((l) => ({ name: `${l.library}库`, value: l.projects })),
        },
      ],
    }),
    [data],
  );
  const label = `四库项目漏斗：${data.libraries.map((l) => `${l.library}库 ${l.projects} 个`).join('，')}`;
  return (
    <Card title="四库项目分布" size="small">
      <Chart option={option} label={label} height={260} testId="library-funnel">
        <DataTable
          caption="四库项目分布"
          headers={['库', '项目数（个）', '总投资（万元）']}
          rows={data.libraries.map((l) => [`${l.library}库`, l.projects, formatWan(l.investment.yuan)])}
        />
      </Chart>
      <Space wrap size="large" style={{ marginTop: 8 }}>
        <span>
          已竣工 <b>{data.ended.completed}</b> 个
        </span>
        <span>
          已出库 <b>{data.ended.out}</b> 个
        </span>
        <span>
          {data.planningPool.scope === 'PLANNING_LIBRARY' ? '谋划库目标：' : '四库目标：'}
          <Tag color={data.planningPool.projectsMet ? 'green' : 'orange'}>
            {data.planningPool.projects} / {data.planningPool.minProjects} 个
          </Tag>
          <Tag color={data.planningPool.investmentMet ? 'green' : 'orange'}>
            {formatWan(data.planningPool.investment.yuan)} / {formatWan(data.planningPool.minInvestment.yuan)}{' '}
            万元
          </Tag>
        </span>
      </Space>
    </Card>
  );
}

const monthName = (m: MonthInvestment) => `${Number(m.month.slice(5, 7))}月`;

function InvestmentChart({ data }: { data: Dashboard }) {
  const months = data.investmentByMonth;
  const option = useMemo<ChartOption>(
    () => ({
      color: ['#b4232a', '#fa8c16'],
      tooltip: {
        trigger: 'axis',
        formatter: (p) => {
          const first = (p as unknown as { dataIndex: number }[])[0];
          const m = first && months[first.dataIndex];
          if (!m) return '';
          return [
            `<b>${data.year}年1–${monthName(m)}</b>`,
            `累计完成投资：${formatWan(m.ytdInvestment.yuan)} 万元`,
            `序时进度目标：${formatWan(m.target.yuan)} 万元（${m.timeElapsed.percent}%）`,
            `年度计划投资：${formatWan(m.annualPlan.yuan)} 万元`,
            `投资完成率：${m.completion ? `${m.completion.percent}%` : '—'}`,
          ].join('<br/>');
        },
      },
      legend: { data: ['累计完成投资', '序时进度目标'], top: 0 },
      grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
      xAxis: { type: 'category', data: months.map(monthName) },
      yAxis: { type: 'value', name: '万元' },
      series: [
        {
          name: '累计完成投资',
          type: 'bar',
          barMaxWidth: 28,
          data: months.map((m) => wanNumber(m.ytdInvestment.yuan)),
        },
        {
          name: '序时进度目标',
          type: 'line',
          smooth: false,
          symbolSize: 6,
          data: months.map((m) => wanNumber(m.target.yuan)),
        },
      ],
    }),
    [data.year, months],
  );
  const last = months[months.length - 1];
  const label = last
    ? `${data.year}年投资完成与序时进度：1–${monthName(last)}累计完成 ${formatWan(last.ytdInvestment.yuan)} 万元，序时进度目标 ${formatWan(last.target.yuan)} 万元`
    : '本年尚无投资数据';
  return (
    <Card
      title={`${data.year}年投资完成与序时进度`}
      size="small"
      extra={
        last && (
          <span>
            完成率 {last.completion ? `${last.completion.percent}%` : '—'}，较序时进度{' '}
            <Points value={last.aheadBehindPoints} /> 个百分点
          </span>
        )
      }
    >
      <Chart option={option} label={label} height={300} testId="investment-chart">
        <DataTable
          caption={`${data.year}年各月累计完成投资与序时进度（万元）`}
          headers={['月份', '累计完成投资', '序时进度目标', '年度计划投资', '投资完成率', '序时进度']}
          rows={months.map((m) => [
            monthName(m),
            formatWan(m.ytdInvestment.yuan),
            formatWan(m.target.yuan),
            formatWan(m.annualPlan.yuan),
            m.completion ? `${m.completion.percent}%` : '—',
            `${m.timeElapsed.percent}%`,
          ])}
        />
      </Chart>
    </Card>
  );
}

function OverdueBars({
  title,
  counts,
  param,
  testId,
}: {
  title: string;
  counts: OrgCount[];
  param: 'department' | 'county';
  testId: string;
}) {
  const navigate = useNavigate();
  const top = useMemo(() => counts.slice(0, 10), [counts]);
  const option = useMemo<ChartOption>(
    () => ({
      color: ['#cf1322'],
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
      grid: { left: 8, right: 24, top: 8, bottom: 8, containLabel: true },
      xAxis: { type: 'value', minInterval: 1 },
      yAxis: { type: 'category', inverse: true, data: top.map((c) => c.name) },
      series: [
        {
          name: '逾期事项',
          type: 'bar',
          barMaxWidth: 20,
          data: top.map((c) => c.count),
          label: { show: true, position: 'right' },
        },
      ],
    }),
    [top],
  );
  const label = counts.length
    ? `${title}：${top.map((c) => `${c.name} ${c.count} 项`).join('，')}`
    : `${title}：无逾期事项`;
  return (
    <Card title={title} size="small" extra={<Link to="/supervision/overdue">逾期清单</Link>}>
      {counts.length === 0 ? (
        <Empty description="无逾期事项" />
      ) : (
        <Chart
          option={option}
          label={label}
          height={Math.max(160, top.length * 30 + 40)}
          testId={testId}
          onClick={(p) => {
            const c = top[p.dataIndex];
            if (c) void navigate(`/supervision/overdue?${param}=${encodeURIComponent(c.orgId)}`);
          }}
        >
          <DataTable
            caption={title}
            headers={['单位', '逾期事项（项）']}
            rows={counts.map((c) => [c.name, c.count])}
          />
        </Chart>
      )}
    </Card>
  );
}

function BlockerChart({ data }: { data: Dashboard }) {
  const levels = data.blockers.byEscalation;
  const option = useMemo<ChartOption>(
    () => ({
      color: ['#fa541c'],
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
      grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
      xAxis: {
        type: 'category',
        data: levels.map((l) => levelLabel(l.level)),
        axisLabel: { interval: 0, fontSize: 11 },
      },
      yAxis: { type: 'value', minInterval: 1 },
      series: [
        {
          name: '未销号堵点',
          type: 'bar',
          barMaxWidth: 32,
          data: levels.map((l) => l.count),
          label: { show: true, position: 'top' },
        },
      ],
    }),
    [levels],
  );
  const label = `未销号堵点按督办级别：${levels.map((l) => `${levelLabel(l.level)} ${l.count} 个`).join('，')}`;
  return (
    <Card
      title="未销号堵点（按督办级别）"
      size="small"
      extra={
        <span>
          共 {data.blockers.open} 个，逾期 {data.blockers.overdue} 个
        </span>
      }
    >
      <Chart option={option} label={label} height={220} testId="blocker-chart">
        <DataTable
          caption="未销号堵点按督办级别"
          headers={['督办级别', '堵点（个）']}
          rows={levels.map((l) => [levelLabel(l.level), l.count])}
        />
      </Chart>
      <Space wrap style={{ marginTop: 8 }}>
        {data.blockers.byLevel.map((l) => (
          <Tag key={l.level}>
            {l.label} {l.count} 个
          </Tag>
        ))}
      </Space>
    </Card>
  );
}

const SERIES = { DEPARTMENT: '部门', COUNTY: '县区' } as const;

function ListTags({ entries, color }: { entries: ListEntry[]; color: string }) {
  if (entries.length === 0) return <Typography.Text type="secondary">无</Typography.Text>;
  return (
    <Space wrap size={[4, 4]}>
      {entries.map((e) => (
        <Tag key={`${e.series}:${e.orgId}`} color={color}>
          {SERIES[e.series]} · 第{e.rank}名 {e.name}（{formatDecimal(e.composite)} 分）
        </Tag>
      ))}
    </Space>
  );
}

export function RankingTable({ rows, testId }: { rows: RankingRow[]; testId: string }) {
  return (
    <Table
      data-testid={testId}
      rowKey="orgId"
      size="small"
      dataSource={rows}
      pagination={rows.length > 10 ? { pageSize: 10, size: 'small' } : false}
      scroll={{ x: 750 }}
      columns={[
        { title: '名次', dataIndex: 'rank', width: 56, align: 'right' },
        { title: '单位', dataIndex: 'name', width: 160, fixed: 'left' },
        { title: '项目数', dataIndex: 'projects', width: 64, align: 'right' },
        {
          title: '投资完成率（%）',
          dataIndex: 'investmentCompletion',
          width: 100,
          align: 'right',
          render: (r: RankingRow['investmentCompletion']) => (r ? r.percent : '—'),
        },
        {
          title: '较序时进度（百分点）',
          dataIndex: 'aheadBehindPoints',
          width: 110,
          align: 'right',
          render: (v: string | null) => <Points value={v} />,
        },
        {
          title: '资金争取（万元）',
          dataIndex: 'fundsSecured',
          width: 110,
          align: 'right',
          render: (m: RankingRow['fundsSecured']) => formatWan(m.yuan),
        },
        {
          title: '综合得分',
          dataIndex: 'composite',
          width: 80,
          align: 'right',
          render: (v: string) => formatDecimal(v),
        },
        {
          title: '红黑榜',
          dataIndex: 'list',
          width: 70,
          render: (l: RankingRow['list']) =>
            l === 'RED' ? <Tag color="red">红榜</Tag> : l === 'BLACK' ? <Tag color="black">黑榜</Tag> : '—',
        },
      ]}
    />
  );
}

function Rankings({ data }: { data: Dashboard }) {
  const r = data.rankings;
  if (!r)
    return (
      <Card title="比晾晒" size="small">
        <Empty description="尚无含排名的报告（月底调度会、季度通报或年度考核后生成）" />
      </Card>
    );
  return (
    <Card
      title={`比晾晒：${r.title}`}
      size="small"
      extra={<Link to={`/supervision/reports/${r.snapshotId}`}>查看报告</Link>}
      data-testid="rankings-card"
    >
      <Typography.Paragraph type="secondary" style={{ marginBottom: 8 }}>
        来源：{reportName(KIND_OPTIONS.find((k) => k.value === r.kind)?.label ?? '报告', r.period)}，
        {formatDateTime(r.createdAt)} 生成；序时进度 {r.timeElapsed.percent}%
      </Typography.Paragraph>
      <div style={{ marginBottom: 8 }} data-testid="red-list">
        <b style={{ color: '#cf1322' }}>红榜：</b>
        <ListTags entries={r.redList} color="red" />
      </div>
      <div style={{ marginBottom: 12 }} data-testid="black-list">
        <b>黑榜：</b>
        <ListTags entries={r.blackList} color="black" />
      </div>
      <Tabs
        items={[
          {
            key: 'departments',
            label: `市直部门（${r.departments.length}）`,
            children: <RankingTable rows={r.departments} testId="ranking-departments" />,
          },
          {
            key: 'counties',
            label: `县（市、区）（${r.counties.length}）`,
            children: <RankingTable rows={r.counties} testId="ranking-counties" />,
          },
        ]}
      />
    </Card>
  );
}

export default function DashboardPage() {
  const dashboard = useQuery({
    queryKey: ['supervision', 'dashboard'],
    queryFn: () => get<Dashboard>('/supervision/dashboard'),
    refetchInterval: 5 * 60_000,
    staleTime: 60_000,
  });
  return (
    <>
      <PageTitle extra={dashboard.data && <AsOf at={dashboard.data.asOf} />}>督查总览</PageTitle>
      <QueryView query={dashboard}>
        {(data) => {
          const live = data.libraries.reduce((s, l) => s + l.projects, 0);
          const liveYuan = data.libraries.reduce((s, l) => s + l.investment.yuan, 0);
          return (
            <Space direction="vertical" size={16} style={{ width: '100%' }}>
              <Row gutter={[16, 16]}>
                {[
                  { title: '四库项目（个）', value: String(live) },
                  { title: '四库总投资（万元）', value: formatWan(liveYuan) },
                  { title: '已竣工（个）', value: String(data.ended.completed) },
                  {
                    title: '逾期事项（项）',
                    value: String(data.overdue.total),
                    danger: data.overdue.total > 0,
                  },
                  { title: '未销号堵点（个）', value: String(data.blockers.open) },
                  { title: '已出库（个）', value: String(data.ended.out) },
                ].map((s) => (
                  <Col key={s.title} xs={12} sm={8} xl={4}>
                    <Card size="small">
                      <Statistic
                        title={s.title}
                        value={s.value}
                        valueStyle={s.danger ? { color: '#cf1322' } : undefined}
                      />
                    </Card>
                  </Col>
                ))}
              </Row>
              <Row gutter={[16, 16]}>
                <Col xs={24} lg={10}>
                  <LibraryFunnel data={data} />
                </Col>
                <Col xs={24} lg={14}>
                  <InvestmentChart data={data} />
                </Col>
              </Row>
              <Row gutter={[16, 16]}>
                <Col xs={24} md={12}>
                  <OverdueBars
                    title="逾期事项（按责任单位）"
                    counts={data.overdue.byResponsibleOrg}
                    param="department"
                    testId="overdue-by-department"
                  />
                </Col>
                <Col xs={24} md={12}>
                  <OverdueBars
                    title="逾期事项（按县区）"
                    counts={data.overdue.byCounty}
                    param="county"
                    testId="overdue-by-county"
                  />
                </Col>
              </Row>
              <Row gutter={[16, 16]}>
                <Col xs={24} lg={8}>
                  <BlockerChart data={data} />
                </Col>
                <Col xs={24} lg={16}>
                  <Rankings data={data} />
                </Col>
              </Row>
            </Space>
          );
        }}
      </QueryView>
    </>
  );
}
