/**
 * 重点项目建议清单: the projects a special group recommended at tier 2 (专业评审) and still live, with the three
 * assessments and the experts' opinions, and what the joint meeting has decided of each so far.
 */
import { useState } from 'react';
import { Link } from 'react-router-dom';
import { useQuery } from '@tanstack/react-query';
import { App, Button, Card, Descriptions, Empty, Form, Select, Space, Statistic, Table, Tag } from 'antd';
import { DownloadOutlined } from '@ant-design/icons';
import { download, get } from '../../api';
import { PageTitle, ProblemAlert, QueryView, UrlSearch } from '../../components/common';
import { formatDate, formatDateTime, wan } from '../../format';
import { DIMENSIONS, EXPERT_KIND_LABELS } from './review-panels';
import { urlPagination, useLeaderPlace, useUrlState, Wan } from './shared';

export interface RecommendationEntry {
  projectId: string;
  name: string;
  countyName: string;
  portfolioName: string;
  responsibleDeptName: string;
  ownerName: string;
  governmentInvested: boolean;
  totalInvestmentYuan: number;
  annualPlanYuan: number;
  stage: string;
  stageLabel: string;
  round: number;
  taskId: string;
  assessments: Record<'technical' | 'investmentBenefit' | 'riskControl', string>;
  experts: {
    expertId: string;
    name: string;
    field: string;
    kind: string;
    institution?: string;
    opinion: string;
  }[];
  decidedBy: { userId: string; name?: string };
  decidedAt: string;
  keyProjectDecision: { included: boolean; year: number; meetingMonth: string } | null;
}

interface RecommendationList {
  group: string;
  groupName: string;
  asOf: string;
  count: number;
  totalInvestmentYuan: number;
  entries: RecommendationEntry[];
}

const TIER3: Record<string, string> = {
  PENDING: '待联席会议',
  INCLUDED: '已纳入重点项目库',
  NOT_INCLUDED: '未纳入',
};

const tier3Of = (e: RecommendationEntry) =>
  !e.keyProjectDecision ? 'PENDING' : e.keyProjectDecision.included ? 'INCLUDED' : 'NOT_INCLUDED';

function Tier3Tag({ entry }: { entry: RecommendationEntry }) {
  const k = entry.keyProjectDecision;
  if (!k) return <Tag>待联席会议</Tag>;
  return k.included ? (
    <Tag color="green">已纳入{k.year}年度重点项目库</Tag>
  ) : (
    <Tag color="default">未纳入</Tag>
  );
}

/** The three assessments and the experts' opinions of one recommendation. */
function ReviewDetail({ entry }: { entry: RecommendationEntry }) {
  return (
    <div style={{ maxWidth: 1000 }}>
      <Descriptions size="small" column={1} bordered>
        {DIMENSIONS.map((d) => (
          <Descriptions.Item key={d.key} label={d.label}>
            {entry.assessments[d.key]}
          </Descriptions.Item>
        ))}
        <Descriptions.Item label="评审人">
          {entry.decidedBy.name ?? entry.decidedBy.userId}（{formatDateTime(entry.decidedAt)}，第{' '}
          {entry.round} 轮申报）
        </Descriptions.Item>
      </Descriptions>
      <Table
        style={{ marginTop: 12 }}
        size="small"
        rowKey="expertId"
        pagination={false}
        dataSource={entry.experts}
        locale={{ emptyText: '未邀请专家或无专家意见' }}
        scroll={{ x: 600 }}
        columns={[
          { title: '专家/机构', dataIndex: 'name', width: 140 },
          {
            title: '领域',
            width: 140,
            render: (_, e) => `${e.field}·${EXPERT_KIND_LABELS[e.kind] ?? e.kind}`,
          },
          { title: '单位', dataIndex: 'institution', width: 160, render: (v?: string) => v ?? '—' },
          { title: '意见', dataIndex: 'opinion' },
        ]}
      />
    </div>
  );
}

export function RecommendationsPage() {
  const url = useUrlState();
  const place = useLeaderPlace();
  const { message } = App.useApp();
  const [downloadError, setDownloadError] = useState<unknown>(null);
  const group = place.isSpecialGroup ? place.org : url.value('group') || place.specialGroups[0]?.id || '';
  const q = url.value('q');
  const tier3 = url.value('tier3');
  const list = useQuery({
    queryKey: ['recommendations', group],
    enabled: Boolean(group),
    queryFn: () => get<RecommendationList>(`/special-groups/${encodeURIComponent(group)}/recommendations`),
  });
  return (
    <>
      <PageTitle
        extra={
          <Space wrap>
            <Link to="/leader/experts">专家库</Link>
            <Button
              icon={<DownloadOutlined />}
              disabled={!list.isSuccess}
              onClick={() => {
                setDownloadError(null);
                download(`/special-groups/${encodeURIComponent(group)}/recommendations`, { format: 'xlsx' })
                  .then((name) => message.success(`已下载 ${name}`))
                  .catch((err: unknown) => setDownloadError(err));
              }}
            >
              导出 Excel
            </Button>
          </Space>
        }
      >
        重点项目建议清单
      </PageTitle>
      {downloadError !== null && <ProblemAlert error={downloadError} />}
      <Card>
        <Form layout="inline" aria-label="筛选" style={{ marginBottom: 16, rowGap: 8 }}>
          {!place.isSpecialGroup && (
            <Form.Item label="专项推进组">
              <Select
                style={{ width: 220 }}
                value={group || undefined}
                onChange={(v) => url.set({ group: v })}
                options={place.specialGroups.map((o) => ({ value: o.id, label: o.name }))}
                loading={!place.loaded}
              />
            </Form.Item>
          )}
          <Form.Item label="项目名称">
            <UrlSearch value={q} onSearch={(v) => url.set({ q: v })} width={220} />
          </Form.Item>
          <Form.Item label="综合评审">
            <Select
              style={{ width: 170 }}
              value={tier3}
              onChange={(v) => url.set({ tier3: v })}
              options={[
                { value: '', label: '全部' },
                ...Object.entries(TIER3).map(([value, label]) => ({ value, label })),
              ]}
            />
          </Form.Item>
        </Form>
        {!group ? (
          <Empty description="请选择专项推进组" />
        ) : (
          <QueryView query={list}>
            {(data) => {
              const rows = data.entries
                .filter((e) => !q || e.name.includes(q) || e.projectId.includes(q))
                .filter((e) => !tier3 || tier3Of(e) === tier3);
              const total = rows.reduce((s, e) => s + e.totalInvestmentYuan, 0);
              return (
                <>
                  <Space size="large" wrap style={{ marginBottom: 16 }} data-testid="recommendations-summary">
                    <Statistic title={`${data.groupName}建议项目`} value={data.count} suffix="个" />
                    <Statistic
                      title="建议项目总投资"
                      value={wan(data.totalInvestmentYuan)}
                      styles={{ content: { fontSize: 20 } }}
                    />
                    {rows.length !== data.count && (
                      <Statistic
                        title={`筛选结果 ${rows.length} 个，总投资`}
                        value={wan(total)}
                        styles={{ content: { fontSize: 20 } }}
                      />
                    )}
                    <span style={{ color: '#999' }}>数据时间 {formatDateTime(data.asOf)}</span>
                  </Space>
                  <Table
                    data-testid="recommendations-table"
                    rowKey="projectId"
                    dataSource={rows}
                    scroll={{ x: 1260 }}
                    locale={{ emptyText: data.count ? '没有符合条件的项目' : '本组尚无推荐项目' }}
                    pagination={urlPagination(url, 'page', 20, '个项目')}
                    expandable={{
                      expandedRowRender: (e) => <ReviewDetail entry={e} />,
                      columnTitle: '评审意见',
                      columnWidth: 90,
                    }}
                    columns={[
                      {
                        title: '项目名称',
                        width: 240,
                        dataIndex: 'name',
                        render: (name: string, e) => <Link to={`/projects/${e.projectId}`}>{name}</Link>,
                      },
                      { title: '县（市、区）', dataIndex: 'countyName', width: 120 },
                      { title: '责任单位', dataIndex: 'responsibleDeptName', width: 150 },
                      {
                        title: '总投资',
                        dataIndex: 'totalInvestmentYuan',
                        width: 140,
                        align: 'right',
                        render: (v: number) => <Wan yuan={v} />,
                      },
                      {
                        title: '政府投资',
                        dataIndex: 'governmentInvested',
                        width: 90,
                        render: (v: boolean) => (v ? '是' : '否'),
                      },
                      { title: '阶段', dataIndex: 'stageLabel', width: 100 },
                      {
                        title: '推荐日期',
                        dataIndex: 'decidedAt',
                        width: 140,
                        render: (v: string) => formatDate(v),
                      },
                      {
                        title: '综合评审',
                        width: 190,
                        render: (_, e) => <Tier3Tag entry={e} />,
                      },
                    ]}
                  />
                </>
              );
            }}
          </QueryView>
        )}
      </Card>
    </>
  );
}
