/**
 * 调出库建议: the quarterly adjustment's removal proposals (stale or blocked projects); the leading group approves
 * one (the project is removed, with a reason and an explanation, kept for audit) or rejects it.
 */
import { useState } from 'react';
import { Link } from 'react-router-dom';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { App, Button, Card, Form, Input, Modal, Radio, Select, Table, Tag, Typography } from 'antd';
import { get, post } from '../../api';
import {
  PageTitle,
  ProblemAlert,
  QueryView,
  showFieldErrors,
  useOrgName,
  UrlSearch,
} from '../../components/common';
import { formatDateTime } from '../../format';
import { formatPeriod, textRules, urlPagination, useLeaderPlace, useUrlState } from './shared';

export interface Proposal {
  _id: string;
  period: string;
  projectId: string;
  projectName: string;
  portfolio: string;
  why: string;
  status: 'PROPOSED' | 'APPROVED' | 'REJECTED';
  decidedBy?: string;
  decidedAt?: string;
  reason?: string;
  explanation?: string;
  createdAt: string;
}

export const REMOVAL_REASONS: Record<string, string> = {
  POLICY_CHANGE: '政策变化',
  FORCE_MAJEURE: '不可抗力',
  OTHER: '其他',
};

const STATUS: Record<Proposal['status'], [string, string]> = {
  PROPOSED: ['待审定', 'gold'],
  APPROVED: ['已调出', 'red'],
  REJECTED: ['不予调出', 'default'],
};

function DecideButton({ proposal }: { proposal: Proposal }) {
  const [open, setOpen] = useState(false);
  const [form] = Form.useForm<{ decision: 'APPROVE' | 'REJECT'; reason?: string; explanation: string }>();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const { message } = App.useApp();
  const queryClient = useQueryClient();
  const decision = Form.useWatch('decision', form);
  return (
    <>
      <Button
        size="small"
        type="primary"
        onClick={() => setOpen(true)}
        aria-label={`审定：${proposal.projectName}`}
      >
        审定
      </Button>
      <Modal
        title={`审定调出建议：${proposal.projectName}`}
        open={open}
        okText="提交"
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
          {formatPeriod(proposal.period)}调整建议：{proposal.why}
        </Typography.Paragraph>
        <Form
          form={form}
          layout="vertical"
          preserve={false}
          aria-label="审定调出建议"
          data-testid="proposal-decision-form"
          onFinish={(v) => {
            setBusy(true);
            setError(null);
            post<Proposal>(`/proposals/${encodeURIComponent(proposal._id)}/decision`, {
              decision: v.decision,
              ...(v.decision === 'APPROVE' ? { reason: v.reason } : {}),
              explanation: v.explanation.trim(),
            })
              .then(async (r) => {
                await queryClient.invalidateQueries({ queryKey: ['proposals'] });
                await queryClient.invalidateQueries({ queryKey: ['project', proposal.projectId] });
                setOpen(false);
                message.success(r.status === 'APPROVED' ? '已同意调出，项目已出库' : '已决定不予调出');
              })
              .catch((err: unknown) => setError(showFieldErrors(form, err)))
              .finally(() => setBusy(false));
          }}
        >
          {error !== null && <ProblemAlert error={error} />}
          <Form.Item label="审定意见" name="decision" rules={[{ required: true, message: '请选择' }]}>
            <Radio.Group
              options={[
                { value: 'APPROVE', label: '同意调出库' },
                { value: 'REJECT', label: '不予调出' },
              ]}
            />
          </Form.Item>
          {decision === 'APPROVE' && (
            <Form.Item label="调出原因" name="reason" rules={[{ required: true, message: '调出须选择原因' }]}>
              <Select options={Object.entries(REMOVAL_REASONS).map(([value, label]) => ({ value, label }))} />
            </Form.Item>
          )}
          <Form.Item label="说明" name="explanation" rules={textRules('说明', 2000)}>
            <Input.TextArea rows={3} maxLength={2000} showCount />
          </Form.Item>
        </Form>
      </Modal>
    </>
  );
}

export function ProposalsPage() {
  const url = useUrlState();
  const place = useLeaderPlace();
  const orgName = useOrgName();
  const status = url.value('status', 'PROPOSED');
  const period = url.value('period');
  const portfolio = url.value('portfolio');
  const q = url.value('q');
  const list = useQuery({
    queryKey: ['proposals'],
    queryFn: () => get<{ proposals: Proposal[] }>('/proposals'),
  });
  const periods = [...new Set((list.data?.proposals ?? []).map((p) => p.period))].sort().reverse();
  return (
    <>
      <PageTitle>调出库建议</PageTitle>
      <Card>
        {!place.isLeadingGroup && (
          <Typography.Paragraph type="secondary">调出库建议由领导小组审定；此处可查看。</Typography.Paragraph>
        )}
        <Form layout="inline" aria-label="筛选" style={{ marginBottom: 16, rowGap: 8 }}>
          <Form.Item label="状态">
            <Select
              style={{ width: 130 }}
              value={status}
              onChange={(v) => url.set({ status: v === 'PROPOSED' ? '' : v })}
              options={[
                ...Object.entries(STATUS).map(([value, [label]]) => ({ value, label })),
                { value: 'ALL', label: '全部' },
              ]}
            />
          </Form.Item>
          <Form.Item label="季度">
            <Select
              style={{ width: 170 }}
              value={period}
              onChange={(v) => url.set({ period: v })}
              options={[
                { value: '', label: '全部' },
                ...periods.map((p) => ({ value: p, label: formatPeriod(p) })),
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
            const rows = data.proposals
              .filter((p) => status === 'ALL' || p.status === status)
              .filter((p) => !period || p.period === period)
              .filter((p) => !portfolio || p.portfolio === portfolio)
              .filter((p) => !q || p.projectName.includes(q) || p.projectId.includes(q));
            return (
              <Table
                data-testid="proposals-table"
                rowKey="_id"
                dataSource={rows}
                scroll={{ x: 1130 }}
                locale={{ emptyText: data.proposals.length ? '没有符合条件的调出建议' : '暂无调出建议' }}
                pagination={urlPagination(url, 'page', 20, '项建议')}
                columns={[
                  { title: '季度', dataIndex: 'period', width: 140, render: (p: string) => formatPeriod(p) },
                  {
                    title: '项目名称',
                    width: 240,
                    dataIndex: 'projectName',
                    render: (n: string, p) => <Link to={`/projects/${p.projectId}`}>{n}</Link>,
                  },
                  {
                    title: '专项推进组',
                    dataIndex: 'portfolio',
                    width: 150,
                    render: (o: string) => orgName(o),
                  },
                  { title: '建议理由', dataIndex: 'why', width: 260 },
                  {
                    title: '状态',
                    dataIndex: 'status',
                    width: 100,
                    render: (s: Proposal['status']) => (
                      <Tag color={STATUS[s]?.[1]}>{STATUS[s]?.[0] ?? s}</Tag>
                    ),
                  },
                  {
                    title: '审定',
                    width: 240,
                    render: (_, p) =>
                      p.status === 'PROPOSED' ? (
                        place.isLeadingGroup ? (
                          <DecideButton proposal={p} />
                        ) : (
                          '待领导小组审定'
                        )
                      ) : (
                        <span>
                          {p.reason && <Tag>{REMOVAL_REASONS[p.reason] ?? p.reason}</Tag>}
                          {p.explanation}
                          <br />
                          <Typography.Text type="secondary">
                            {p.decidedBy} · {formatDateTime(p.decidedAt)}
                          </Typography.Text>
                        </span>
                      ),
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
