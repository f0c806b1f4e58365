/**
 * 年度重点项目库与资金分配方案: the projects the year's joint meetings included, with each government-invested
 * project's fund allocation; the leading group approves (审定) the list as it stands, which publishes it, and every
 * approved version stays readable.
 */
import { useState } from 'react';
import { Link } from 'react-router-dom';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import {
  Alert,
  App,
  Button,
  Card,
  Descriptions,
  Form,
  Input,
  Modal,
  Select,
  Space,
  Statistic,
  Table,
  Tabs,
  Tag,
  Typography,
} from 'antd';
import { DownloadOutlined } from '@ant-design/icons';
import { download, get, post } from '../../api';
import { PageTitle, ProblemAlert, QueryView, showFieldErrors, UrlSearch } from '../../components/common';
import { formatDate, formatDateTime, formatDay, wan } from '../../format';
import {
  formatMonth,
  shanghaiToday,
  textRules,
  urlPagination,
  useLeaderPlace,
  usePolicy,
  useUrlState,
  Wan,
} from './shared';

interface Allocation {
  amountYuan: number;
  sourceType: string;
  sourceLabel: string;
  year: number;
}

interface KeyProjectEntry {
  projectId: string;
  name: string;
  countyName: string;
  portfolio: string;
  portfolioName: string;
  responsibleDeptName: string;
  governmentInvested: boolean;
  totalInvestmentYuan: number;
  annualPlanYuan: number;
  stageLabel: string;
  taskId: string;
  meeting: { month: string; date: string };
  opinion: string | null;
  fundAllocation: Allocation | null;
  decidedAt: string;
}

interface Approval {
  version: number;
  documentNumber: string;
  note?: string;
  approvedBy: { userId: string; name?: string; org: string };
  approvedAt: string;
  publishedAt: string | null;
}

interface KeyProjectsAnswer {
  year: number;
  asOf: string;
  count: number;
  totalInvestmentYuan: number;
  fundAllocationYuan: number;
  entries: KeyProjectEntry[];
  status: 'WORKING' | 'APPROVED';
  approval: Approval | null;
  approvals: Approval[];
  changedSinceApproval: boolean | null;
}

/** 审定: the leading group's decision number and a note; the list approved is the list as it stands. */
function ApproveButton({ data }: { data: KeyProjectsAnswer }) {
  const [open, setOpen] = useState(false);
  const [form] = Form.useForm<{ documentNumber: string; note?: string }>();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const { message } = App.useApp();
  const queryClient = useQueryClient();
  const url = useUrlState();
  return (
    <>
      <Button type="primary" onClick={() => setOpen(true)} data-testid="approve-key-projects">
        审定并发布
      </Button>
      <Modal
        title={`审定${data.year}年度重点项目库`}
        open={open}
        okText="审定并发布"
        cancelText="取消"
        confirmLoading={busy}
        destroyOnHidden
        onCancel={() => {
          setOpen(false);
          setError(null);
        }}
        onOk={() => form.submit()}
      >
        <Typography.Paragraph>
          将以当前清单（{data.count} 个项目，总投资 {wan(data.totalInvestmentYuan)}，安排资金{' '}
          {wan(data.fundAllocationYuan)}
          ）形成新的审定版本，并发布至各部门、县（市、区）和专项推进组。审定版本不可修改。
        </Typography.Paragraph>
        <Form
          form={form}
          layout="vertical"
          preserve={false}
          aria-label="审定年度重点项目库"
          onFinish={(v) => {
            setBusy(true);
            setError(null);
            post<Approval & { year: number }>(`/key-projects/${data.year}/approval`, {
              documentNumber: v.documentNumber.trim(),
              ...(v.note?.trim() ? { note: v.note.trim() } : {}),
            })
              .then(async (r) => {
                await queryClient.invalidateQueries({ queryKey: ['key-projects'] });
                setOpen(false);
                message.success(`已审定第 ${r.version} 版并发布`);
                url.set({ version: r.version });
              })
              .catch((err: unknown) => setError(showFieldErrors(form, err)))
              .finally(() => setBusy(false));
          }}
        >
          {error !== null && <ProblemAlert error={error} />}
          <Form.Item label="审定文号" name="documentNumber" rules={textRules('审定文号', 100)}>
            <Input placeholder="如 临重项组〔2026〕1号" />
          </Form.Item>
          <Form.Item label="说明" name="note" rules={textRules('说明', 2000, false)}>
            <Input.TextArea rows={3} maxLength={2000} showCount />
          </Form.Item>
        </Form>
      </Modal>
    </>
  );
}

function ApprovalState({ data, canApprove }: { data: KeyProjectsAnswer; canApprove: boolean }) {
  const latest = data.approvals.at(-1);
  if (data.status === 'APPROVED' && data.approval) {
    const a = data.approval;
    return (
      <Descriptions
        size="small"
        bordered
        column={{ xs: 1, md: 2, xl: 3 }}
        data-testid="approval-state"
        title={<Tag color="green">已审定 第 {a.version} 版</Tag>}
      >
        <Descriptions.Item label="审定文号">{a.documentNumber}</Descriptions.Item>
        <Descriptions.Item label="审定人">{a.approvedBy.name ?? a.approvedBy.userId}</Descriptions.Item>
        <Descriptions.Item label="审定时间">{formatDateTime(a.approvedAt)}</Descriptions.Item>
        <Descriptions.Item label="发布时间">
          {a.publishedAt ? formatDateTime(a.publishedAt) : '未发布'}
        </Descriptions.Item>
        {a.note && <Descriptions.Item label="说明">{a.note}</Descriptions.Item>}
      </Descriptions>
    );
  }
  return (
    <div data-testid="approval-state">
      <Space wrap style={{ marginBottom: 8 }}>
        <Tag color="gold">工作清单（未审定）</Tag>
        {latest && (
          <span>
            最近审定：第 {latest.version} 版，{latest.documentNumber}，{formatDate(latest.approvedAt)}
          </span>
        )}
        {canApprove && data.count > 0 && data.changedSinceApproval !== false && <ApproveButton data={data} />}
      </Space>
      {data.changedSinceApproval === true && (
        <Alert
          type="warning"
          showIcon
          title={`工作清单在第 ${latest?.version} 版审定后有变化，需重新审定发布。`}
        />
      )}
      {data.changedSinceApproval === false && (
        <Alert type="info" showIcon title={`工作清单与第 ${latest?.version} 版一致，无需重新审定。`} />
      )}
      {!canApprove && (
        <Typography.Paragraph type="secondary" style={{ margin: 0 }}>
          年度重点项目库由领导小组审定。
        </Typography.Paragraph>
      )}
    </div>
  );
}

/** 资金分配方案 by source: how much of each funding source the allocations use (summed in integer 元). */
function AllocationSummary({ entries }: { entries: KeyProjectEntry[] }) {
  const bySource = new Map<string, { label: string; count: number; yuan: number }>();
  for (const e of entries) {
    const f = e.fundAllocation;
    if (!f) continue;
    const row = bySource.get(f.sourceType) ?? { label: f.sourceLabel, count: 0, yuan: 0 };
    row.count += 1;
    row.yuan += f.amountYuan;
    bySource.set(f.sourceType, row);
  }
  const rows = [...bySource].map(([type, r]) => ({ type, ...r }));
  return (
    <Table
      size="small"
      rowKey="type"
      pagination={false}
      dataSource={rows}
      data-testid="allocation-summary"
      locale={{ emptyText: '尚无资金分配' }}
      style={{ marginBottom: 16, maxWidth: 640 }}
      columns={[
        { title: '资金来源', dataIndex: 'label' },
        { title: '项目数', dataIndex: 'count', width: 90, align: 'right' },
        {
          title: '安排资金',
          dataIndex: 'yuan',
          width: 180,
          align: 'right',
          render: (v: number) => <Wan yuan={v} />,
        },
      ]}
    />
  );
}

export function KeyProjectsPage() {
  const url = useUrlState();
  const place = useLeaderPlace();
  const policy = usePolicy();
  const { message } = App.useApp();
  const [downloadError, setDownloadError] = useState<unknown>(null);
  const thisYear = Number(shanghaiToday().slice(0, 4));
  const year = Number(url.value('year')) || thisYear;
  const version = Number(url.value('version')) || undefined;
  const tab = url.value('tab', 'list');
  const q = url.value('q');
  const portfolio = url.value('portfolio');
  const source = url.value('source');
  const list = useQuery({
    queryKey: ['key-projects', year, version ?? 'working'],
    queryFn: () => get<KeyProjectsAnswer>('/key-projects', { year, version }),
  });
  const years = [...new Set([thisYear - 3, thisYear - 2, thisYear - 1, thisYear, thisYear + 1, year])].sort();
  const sources = Object.entries(policy.data?.funding?.sourceTypes ?? {});
  return (
    <>
      <PageTitle
        extra={
          <Button
            icon={<DownloadOutlined />}
            disabled={!list.isSuccess}
            onClick={() => {
              setDownloadError(null);
              download('/key-projects', { year, version, format: 'xlsx' })
                .then((name) => message.success(`已下载 ${name}`))
                .catch((err: unknown) => setDownloadError(err));
            }}
          >
            导出 Excel
          </Button>
        }
      >
        重点项目库与资金分配方案
      </PageTitle>
      {downloadError !== null && <ProblemAlert error={downloadError} />}
      <Card>
        <Form layout="inline" aria-label="筛选" style={{ marginBottom: 16, rowGap: 8 }}>
          <Form.Item label="年度">
            <Select
              style={{ width: 110 }}
              value={year}
              onChange={(v) => url.set({ year: v === thisYear ? '' : v, version: '' })}
              options={years.map((y) => ({ value: y, label: `${y}年` }))}
            />
          </Form.Item>
          <Form.Item label="版本">
            <Select
              style={{ width: 260 }}
              value={version ?? 0}
              onChange={(v) => url.set({ version: v || '' })}
              options={[
                { value: 0, label: '工作清单（当前）' },
                ...(list.data?.approvals ?? []).map((a) => ({
                  value: a.version,
                  label: `审定第 ${a.version} 版（${a.documentNumber}）`,
                })),
                ...(version && !list.data?.approvals.some((a) => a.version === version)
                  ? [{ value: version, label: `第 ${version} 版` }]
                  : []),
              ]}
            />
          </Form.Item>
          <Form.Item label="专项推进组">
            <Select
              style={{ width: 200 }}
              value={portfolio}
              onChange={(v) => url.set({ portfolio: v })}
              options={[
                { value: '', label: '全部' },
                ...place.specialGroups.map((o) => ({ value: o.id, label: o.name })),
              ]}
            />
          </Form.Item>
          <Form.Item label="资金来源">
            <Select
              style={{ width: 180 }}
              value={source}
              onChange={(v) => url.set({ source: v })}
              options={[
                { value: '', label: '全部' },
                { value: 'NONE', label: '未安排资金' },
                ...sources.map(([value, t]) => ({ value, label: t.label })),
              ]}
            />
          </Form.Item>
          <Form.Item label="项目名称">
            <UrlSearch
              value={q}
              onSearch={(v) => url.set({ q: v })}
              width={200}
              placeholder="输入名称后回车"
            />
          </Form.Item>
        </Form>
        <QueryView query={list}>
          {(data) => {
            const rows = data.entries
              .filter((e) => !q || e.name.includes(q) || e.projectId.includes(q))
              .filter((e) => !portfolio || e.portfolio === portfolio)
              .filter((e) =>
                !source
                  ? true
                  : source === 'NONE'
                    ? !e.fundAllocation
                    : e.fundAllocation?.sourceType === source,
              );
            const allocated = rows.filter((e) => e.fundAllocation);
            return (
              <>
                <ApprovalState data={data} canApprove={place.isLeadingGroup && data.status === 'WORKING'} />
                <Space size="large" wrap style={{ margin: '16px 0' }} data-testid="key-projects-summary">
                  <Statistic title={`${data.year}年度重点项目`} value={data.count} suffix="个" />
                  <Statistic
                    title="总投资"
                    value={wan(data.totalInvestmentYuan)}
                    styles={{ content: { fontSize: 20 } }}
                  />
                  <Statistic
                    title="安排资金"
                    value={wan(data.fundAllocationYuan)}
                    styles={{ content: { fontSize: 20 } }}
                  />
                  <span style={{ color: '#999' }}>数据时间 {formatDateTime(data.asOf)}</span>
                </Space>
                <Tabs
                  activeKey={tab}
                  onChange={(k) => url.set({ tab: k === 'list' ? '' : k })}
                  items={[
                    {
                      key: 'list',
                      label: `重点项目库（${rows.length}）`,
                      children: (
                        <Table
                          data-testid="key-projects-table"
                          rowKey="projectId"
                          dataSource={rows}
                          scroll={{ x: 1310 }}
                          locale={{
                            emptyText: data.count ? '没有符合条件的项目' : '本年度尚无纳入重点项目库的项目',
                          }}
                          pagination={urlPagination(url, 'page', 20, '个项目')}
                          columns={[
                            {
                              title: '项目名称',
                              width: 240,
                              dataIndex: 'name',
                              render: (name: string, e) => (
                                <Link to={`/projects/${e.projectId}`}>{name}</Link>
                              ),
                            },
                            { title: '专项推进组', dataIndex: 'portfolioName', width: 150 },
                            { title: '县（市、区）', dataIndex: 'countyName', width: 120 },
                            {
                              title: '总投资',
                              dataIndex: 'totalInvestmentYuan',
                              width: 140,
                              align: 'right',
                              render: (v: number) => <Wan yuan={v} />,
                            },
                            {
                              title: '安排资金',
                              width: 200,
                              render: (_, e) =>
                                e.fundAllocation ? (
                                  <span>
                                    <Wan yuan={e.fundAllocation.amountYuan} />
                                    <br />
                                    <Typography.Text type="secondary">
                                      {e.fundAllocation.sourceLabel} · {e.fundAllocation.year}年
                                    </Typography.Text>
                                  </span>
                                ) : (
                                  '—'
                                ),
                            },
                            {
                              title: '联席会议',
                              width: 160,
                              render: (_, e) => (
                                <span>
                                  {formatMonth(e.meeting.month)}
                                  <br />
                                  <Typography.Text type="secondary">
                                    {formatDay(e.meeting.date)}
                                  </Typography.Text>
                                </span>
                              ),
                            },
                            { title: '阶段', dataIndex: 'stageLabel', width: 100 },
                            {
                              title: '会议意见',
                              dataIndex: 'opinion',
                              width: 200,
                              render: (v: string | null) => v ?? '—',
                            },
                          ]}
                        />
                      ),
                    },
                    {
                      key: 'funds',
                      label: `资金分配方案（${allocated.length}）`,
                      children: (
                        <>
                          <AllocationSummary entries={rows} />
                          <Table
                            data-testid="fund-allocations-table"
                            rowKey="projectId"
                            dataSource={allocated}
                            scroll={{ x: 1060 }}
                            locale={{ emptyText: '尚无资金分配' }}
                            pagination={urlPagination(url, 'fundsPage', 20, '个项目')}
                            columns={[
                              {
                                title: '项目名称',
                                width: 240,
                                dataIndex: 'name',
                                render: (name: string, e) => (
                                  <Link to={`/projects/${e.projectId}`}>{name}</Link>
                                ),
                              },
                              { title: '专项推进组', dataIndex: 'portfolioName', width: 150 },
                              {
                                title: '年度计划投资',
                                dataIndex: 'annualPlanYuan',
                                width: 150,
                                align: 'right',
                                render: (v: number) => <Wan yuan={v} />,
                              },
                              {
                                title: '安排资金',
                                width: 150,
                                align: 'right',
                                render: (_, e) => <Wan yuan={e.fundAllocation?.amountYuan} />,
                              },
                              {
                                title: '资金来源',
                                width: 150,
                                render: (_, e) => e.fundAllocation?.sourceLabel,
                              },
                              {
                                title: '安排年度',
                                width: 100,
                                render: (_, e) => `${e.fundAllocation?.year}年`,
                              },
                              {
                                title: '联席会议',
                                width: 120,
                                render: (_, e) => formatMonth(e.meeting.month),
                              },
                            ]}
                          />
                        </>
                      ),
                    },
                  ]}
                />
              </>
            );
          }}
        </QueryView>
      </Card>
    </>
  );
}
