/**
 * 项目: one project — its facts, open tasks, investment and payments, blockers, and one timeline merging its
 * trail, revisions, blockers and Temporal history (each run linked to the Temporal Web UI). The owner acts here.
 */
import { useState } from 'react';
import { Link, useParams, useSearchParams } from 'react-router-dom';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import {
  App,
  Button,
  Card,
  Checkbox,
  DatePicker,
  Descriptions,
  Form,
  Input,
  Modal,
  Select,
  Space,
  Table,
  Tabs,
  Tag,
  Timeline,
} from 'antd';
import type { Dayjs } from 'dayjs';
import { BLOCKER_CATEGORIES, BLOCKER_LEVELS } from '../../../domain/blockers';
import { get, post } from '../api';
import {
  PageTitle,
  ProblemAlert,
  QueryView,
  showFieldErrors,
  useOrgName,
  useOrgs,
  useSession,
} from '../components/common';
import { ProjectFacts, ReviewOpinions } from '../components/ProjectFacts';
import {
  formatDate,
  formatDateTime,
  formatDay,
  stageLabel,
  TASK_KIND_LABELS,
  wan,
  wanToYuan,
} from '../format';
import { EscalationBadge } from './Inbox';
import type { HistoryEntry, ProjectView, TrailEvent } from '../types';

const SOURCE_LABELS: Record<string, { label: string; color: string }> = {
  audit: { label: '业务记录', color: 'blue' },
  temporal: { label: '工作流', color: 'gray' },
  revision: { label: '修改', color: 'purple' },
  blocker: { label: '堵点', color: 'orange' },
};

const EVENT_LABELS: Record<string, string> = {
  PROJECT_CREATED: '项目创建',
  SUBMITTED: '提交初审',
  TASK_OPENED: '事项开启',
  DEADLINE_SET: '期限确定',
  DEADLINE_EXTENDED: '期限延长',
  CLOCK_PAUSED: '计时暂停',
  CLOCK_RESUMED: '计时恢复',
  REVIEW_DECIDED: '评审决定',
  SPECIALIST_REVIEW_DECIDED: '专业评审决定',
  COMPREHENSIVE_REVIEW_DECIDED: '综合评审决定',
  EXPERTS_INVITED: '邀请专家',
  KEY_PROJECT_RECOMMENDED: '列入重点项目建议清单',
  RETURNED: '退回修改',
  REJECTED: '评审不通过',
  DETAILS_REVISED: '修改项目信息',
  CHANGE_REQUESTED: '提出调整申请',
  CHANGE_DECIDED: '调整申请决定',
  PLAN_INCLUSION_RECORDED: '纳入规划',
  PROJECT_CODE_RECORDED: '赋项目代码',
  FUNDING_CONFIRMED: '资金落实',
  FUNDING_SOURCE_RECORDED: '登记资金来源',
  FUNDING_SOURCE_UPDATED: '资金来源更新',
  ENTERED_PRE_CONSTRUCTION: '转入前期库',
  START_APPLIED: '开工申请',
  START_REFUSED: '开工核查未通过',
  START_EXCEPTION_APPROVED: '开工例外批准',
  CONSTRUCTION_STARTED: '开工',
  PROGRESS_REPORTED: '月度进度报送',
  PAYMENT_RECORDED: '登记支付',
  COMPLETION_ACCEPTED: '竣工验收',
  BLOCKER_RAISED: '提报堵点',
  PROVINCIAL_KEY_SET: '列为省级重点',
  JOINT_MEETING_POSTPONED: '联席会议延期',
  RESERVE_PROGRESS_RESUMED: '储备推进恢复',
  SUSPENDED: '停缓建',
  RESUMED: '恢复建设',
  REMOVED: '调出',
  WITHDRAWN: '撤回',
};

/** One timeline for the project: for supervisors the merged history; for others the trail. */
function ProjectTimeline({ projectId, full }: { projectId: string; full: boolean }) {
  const [params, setParams] = useSearchParams();
  const showTemporal = params.get('temporal') === '1';
  const orgName = useOrgName();
  const history = useQuery({
    queryKey: ['project', projectId, 'history'],
    queryFn: () =>
      get<{ temporalUi: { runId: string; url: string }[]; entries: HistoryEntry[] }>(
        `/projects/${projectId}/history`,
      ),
    enabled: full,
  });
  const events = useQuery({
    queryKey: ['project', projectId, 'events'],
    queryFn: () => get<{ events: TrailEvent[] }>(`/projects/${projectId}/events`),
    enabled: !full,
  });
  if (!full)
    return (
      <QueryView query={events} isEmpty={(d) => d.events.length === 0}>
        {(d) => (
          <Timeline
            data-testid="timeline"
            items={d.events.map((e) => ({
              children: (
                <div>
                  <strong>{EVENT_LABELS[e.type] ?? e.type}</strong> {stageLabel(e.stageAfter)}
                  {typeof e.data.title === 'string' && ` · ${e.data.title}`}
                  {typeof e.data.opinion === 'string' && e.data.opinion && ` · 意见：${e.data.opinion}`}
                  <div style={{ color: '#888', fontSize: 12 }}>
                    {formatDateTime(e.at)} · {orgName(e.actor.org)} {e.actor.name ?? e.actor.userId}
                  </div>
                </div>
              ),
            }))}
          />
        )}
      </QueryView>
    );
  return (
    <QueryView query={history}>
      {(h) => (
        <>
          <Space wrap style={{ marginBottom: 12 }}>
            <Checkbox
              checked={showTemporal}
              onChange={(e) => {
                const next = new URLSearchParams(params);
                if (e.target.checked) next.set('temporal', '1');
                else next.delete('temporal');
                setParams(next, { replace: true });
              }}
            >
              显示工作流事件
            </Checkbox>
            {h.temporalUi.map((r, i) => (
              <a key={r.runId} href={r.url} target="_blank" rel="noreferrer">
                在 Temporal Web UI 查看第 {i + 1} 次运行
              </a>
            ))}
          </Space>
          <Timeline
            data-testid="timeline"
            items={h.entries
              .filter((e) => showTemporal || e.source !== 'temporal')
              .map((e) => ({
                color: SOURCE_LABELS[e.source]?.color ?? 'blue',
                children: (
                  <div>
                    <Tag color={SOURCE_LABELS[e.source]?.color}>
                      {SOURCE_LABELS[e.source]?.label ?? e.source}
                    </Tag>
                    <strong>{e.source === 'audit' ? (EVENT_LABELS[e.what] ?? e.what) : e.what}</strong>
                    {e.source === 'audit' && typeof e.details?.title === 'string' && ` · ${e.details.title}`}
                    {e.source === 'audit' &&
                      typeof e.details?.decision === 'string' &&
                      ` · ${e.details.decision}`}
                    {e.source === 'audit' &&
                      typeof e.details?.opinion === 'string' &&
                      e.details.opinion &&
                      ` · 意见：${e.details.opinion}`}
                    <div style={{ color: '#888', fontSize: 12 }}>
                      {formatDateTime(e.at)}
                      {e.actor && ` · ${orgName(e.actor.org)} ${e.actor.name ?? e.actor.userId}`}
                      {e.runId && ` · 运行 ${e.runId.slice(0, 8)} 事件 ${e.eventId}`}
                    </div>
                  </div>
                ),
              }))}
          />
        </>
      )}
    </QueryView>
  );
}

/** A small action form in a dialog; the API's field errors appear beside its fields. */
function ActionDialog<T extends object>({
  title,
  open,
  onClose,
  submit,
  children,
  fieldOf,
}: {
  title: string;
  open: boolean;
  onClose: () => void;
  submit: (values: T) => Promise<unknown>;
  children: React.ReactNode;
  fieldOf?: (path: string) => string;
}) {
  const [form] = Form.useForm<T>();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const queryClient = useQueryClient();
  const { message } = App.useApp();
  return (
    <Modal
      title={title}
      open={open}
      okText="提交"
      cancelText="取消"
      confirmLoading={busy}
      destroyOnHidden
      onCancel={onClose}
      onOk={() => {
        form
          .validateFields()
          .then(async (v) => {
            setBusy(true);
            setError(null);
            try {
              await submit(v);
              await queryClient.invalidateQueries();
              message.success(`${title}已提交`);
              onClose();
            } catch (err) {
              setError(showFieldErrors(form, err, fieldOf ? (p) => [fieldOf(p)] : undefined));
            } finally {
              setBusy(false);
            }
          })
          .catch(() => undefined);
      }}
    >
      {error !== null && <ProblemAlert error={error} />}
      <Form form={form} layout="vertical" preserve={false}>
        {children}
      </Form>
    </Modal>
  );
}

function OwnerActions({ project }: { project: ProjectView }) {
  const [dialog, setDialog] = useState<'payment' | 'start' | 'blocker' | null>(null);
  const [error, setError] = useState<unknown>(null);
  const queryClient = useQueryClient();
  const { message } = App.useApp();
  const orgs = useOrgs();
  const id = project.projectId;
  const s = project.stage;
  const estimate = project.state.approvedEstimateYuan;
  const paid = project.state.cumulativePaidYuan ?? 0;
  return (
    <>
      {error !== null && <ProblemAlert error={error} />}
      <Space wrap>
        {s === 'DRAFT' && (
          <>
            <Link to={`/projects/${id}/edit`}>
              <Button>修改</Button>
            </Link>
            <Button
              type="primary"
              onClick={() =>
                post(`/projects/${id}/submit`)
                  .then(() => queryClient.invalidateQueries())
                  .then(() => message.success('已提交部门初审'))
                  .catch((err: unknown) => setError(err))
              }
            >
              提交初审
            </Button>
          </>
        )}
        {(s === 'PRE_CONSTRUCTION' || s === 'UNDER_CONSTRUCTION') && (
          <Link to={`/projects/${id}/progress-report`}>
            <Button type="primary">填报月度进度</Button>
          </Link>
        )}
        {s === 'PRE_CONSTRUCTION' && <Button onClick={() => setDialog('start')}>开工申请</Button>}
        {s === 'UNDER_CONSTRUCTION' && <Button onClick={() => setDialog('payment')}>登记支付</Button>}
        {!['DRAFT', 'COMPLETED', 'REJECTED', 'REMOVED', 'WITHDRAWN'].includes(s) && (
          <Button onClick={() => setDialog('blocker')}>提报堵点</Button>
        )}
      </Space>
      <ActionDialog<{ amountWan: string; date: Dayjs; basis: string }>
        title="登记支付"
        open={dialog === 'payment'}
        onClose={() => setDialog(null)}
        fieldOf={(p) => (p === 'amountYuan' ? 'amountWan' : p)}
        submit={(v) =>
          post(`/projects/${id}/payments`, {
            amountYuan: wanToYuan(v.amountWan) ?? v.amountWan,
            date: v.date.format('YYYY-MM-DD'),
            basis: v.basis,
          })
        }
      >
        <Descriptions size="small" column={1} style={{ marginBottom: 12 }}>
          <Descriptions.Item label="批复概算">{estimate ? wan(estimate) : '未批复'}</Descriptions.Item>
          <Descriptions.Item label="累计支付">{wan(paid)}</Descriptions.Item>
          <Descriptions.Item label="剩余可支付">{estimate ? wan(estimate - paid) : '—'}</Descriptions.Item>
        </Descriptions>
        <Form.Item
          label="支付金额（万元）"
          name="amountWan"
          rules={[{ required: true, message: '请输入金额' }]}
        >
          <Input suffix="万元" inputMode="decimal" />
        </Form.Item>
        <Form.Item label="支付日期" name="date" rules={[{ required: true, message: '请选择日期' }]}>
          <DatePicker />
        </Form.Item>
        <Form.Item
          label="支付依据"
          name="basis"
          rules={[{ required: true, max: 500, message: '请写明依据（合同、进度款等）' }]}
        >
          <Input />
        </Form.Item>
      </ActionDialog>
      <ActionDialog<{ date: Dayjs }>
        title="开工申请"
        open={dialog === 'start'}
        onClose={() => setDialog(null)}
        submit={(v) => post(`/projects/${id}/start`, { date: v.date.format('YYYY-MM-DD') })}
      >
        <Form.Item label="计划开工日期" name="date" rules={[{ required: true, message: '请选择日期' }]}>
          <DatePicker />
        </Form.Item>
      </ActionDialog>
      <ActionDialog<{ category: string; level: string; responsibleOrg: string; description: string }>
        title="提报堵点"
        open={dialog === 'blocker'}
        onClose={() => setDialog(null)}
        submit={(v) => post(`/projects/${id}/blockers`, v)}
      >
        <Form.Item label="问题类别" name="category" rules={[{ required: true }]}>
          <Select options={Object.entries(BLOCKER_CATEGORIES).map(([v, l]) => ({ value: v, label: l }))} />
        </Form.Item>
        <Form.Item label="协调层级" name="level" rules={[{ required: true }]}>
          <Select options={Object.entries(BLOCKER_LEVELS).map(([v, l]) => ({ value: v, label: l }))} />
        </Form.Item>
        <Form.Item label="责任单位" name="responsibleOrg" rules={[{ required: true }]}>
          <Select
            showSearch
            optionFilterProp="label"
            options={(orgs.data ?? [])
              .filter((o) => ['DEPARTMENT', 'COUNTY', 'SPECIAL_GROUP'].includes(o.kind))
              .map((o) => ({ value: o.id, label: o.name }))}
          />
        </Form.Item>
        <Form.Item
          label="问题描述"
          name="description"
          rules={[{ required: true, min: 4, max: 2000, message: '4–2000 个字' }]}
        >
          <Input.TextArea rows={4} />
        </Form.Item>
      </ActionDialog>
    </>
  );
}

export default function ProjectPage() {
  const { id = '' } = useParams();
  const [params, setParams] = useSearchParams();
  const session = useSession();
  const orgName = useOrgName();
  const project = useQuery({ queryKey: ['project', id], queryFn: () => get<ProjectView>(`/projects/${id}`) });
  const events = useQuery({
    queryKey: ['project', id, 'events'],
    queryFn: () => get<{ events: TrailEvent[] }>(`/projects/${id}/events`),
  });
  const blockers = useQuery({
    queryKey: ['project', id, 'blockers'],
    queryFn: () =>
      get<{
        blockers: {
          blockerId: string;
          categoryLabel: string;
          levelLabel: string;
          description: string;
          status: string;
          dueAt: string | null;
          responsibleOrg: string;
          escalationLevel: number;
        }[];
      }>(`/projects/${id}/blockers`),
  });
  const full = Boolean(session?.roles.some((r) => r === 'supervisor' || r === 'admin' || r === 'leader'));
  const owner = Boolean(session?.roles.includes('applicant'));
  const tab = params.get('tab') ?? 'overview';
  return (
    <QueryView query={project}>
      {(p) => {
        const reports = p.state.reports ?? [];
        const payments = p.state.payments ?? [];
        return (
          <>
            <PageTitle extra={<Tag color="blue">{stageLabel(p.stage)}</Tag>}>{p.details.name}</PageTitle>
            {owner && p.details.ownerOrg === session?.org && (
              <Card size="small" style={{ marginBottom: 16 }}>
                <OwnerActions project={p} />
              </Card>
            )}
            <Tabs
              activeKey={tab}
              onChange={(k) => {
                const next = new URLSearchParams(params);
                next.set('tab', k);
                setParams(next, { replace: true });
              }}
              items={[
                {
                  key: 'overview',
                  label: '概况',
                  children: (
                    <Space direction="vertical" size="middle" style={{ width: '100%' }}>
                      <ProjectFacts project={p} />
                      <Card title="在办事项" size="small">
                        <Table
                          size="small"
                          rowKey="id"
                          dataSource={p.openTasks}
                          pagination={false}
                          scroll={{ x: 800 }}
                          locale={{ emptyText: '无在办事项' }}
                          columns={[
                            {
                              title: '事项',
                              dataIndex: 'title',
                              render: (t: string, r) =>
                                r.assigneeOrg === session?.org ? (
                                  <Link to={`/tasks/${encodeURIComponent(r.id)}`}>{t}</Link>
                                ) : (
                                  t
                                ),
                            },
                            {
                              title: '类型',
                              dataIndex: 'kind',
                              width: 100,
                              render: (k: string) => TASK_KIND_LABELS[k] ?? k,
                            },
                            {
                              title: '承办单位',
                              dataIndex: 'assigneeOrg',
                              width: 180,
                              render: (o: string) => orgName(o),
                            },
                            {
                              title: '办理期限',
                              width: 140,
                              render: (_, r) => formatDay(r.deadline?.dueDay),
                            },
                            {
                              title: '督办',
                              dataIndex: 'escalationLevel',
                              width: 110,
                              render: (l: number) => <EscalationBadge level={l} />,
                            },
                          ]}
                        />
                      </Card>
                      <Card title="评审意见" size="small">
                        <ReviewOpinions events={events.data?.events ?? []} />
                      </Card>
                    </Space>
                  ),
                },
                {
                  key: 'investment',
                  label: '投资与支付',
                  children: (
                    <Space direction="vertical" size="middle" style={{ width: '100%' }}>
                      <Descriptions bordered size="small" column={{ xs: 1, md: 3 }}>
                        <Descriptions.Item label="总投资">
                          {wan(p.details.totalInvestmentYuan)}
                        </Descriptions.Item>
                        <Descriptions.Item label="批复概算">
                          {p.state.approvedEstimateYuan ? wan(p.state.approvedEstimateYuan) : '未批复'}
                        </Descriptions.Item>
                        <Descriptions.Item label="累计支付">
                          {wan(p.state.cumulativePaidYuan ?? 0)}
                        </Descriptions.Item>
                      </Descriptions>
                      <Table
                        size="small"
                        rowKey="period"
                        dataSource={[...reports].reverse()}
                        pagination={{ pageSize: 12 }}
                        scroll={{ x: 800 }}
                        locale={{ emptyText: '尚无月度报告' }}
                        columns={[
                          { title: '月份', dataIndex: 'period', width: 100 },
                          {
                            title: '本年累计完成（万元）',
                            dataIndex: 'ytdInvestmentYuan',
                            align: 'right',
                            render: (y: number) => wan(y),
                          },
                          {
                            title: '开工累计完成（万元）',
                            dataIndex: 'cumulativeInvestmentYuan',
                            align: 'right',
                            render: (y: number) => wan(y),
                          },
                          {
                            title: '资金到位（万元）',
                            dataIndex: 'fundsReceivedYuan',
                            align: 'right',
                            render: (y: number) => wan(y),
                          },
                          { title: '形象进度', dataIndex: 'physicalProgress' },
                        ]}
                      />
                      <Table
                        size="small"
                        rowKey={(r, i) => `${r.date ?? ''}-${i}`}
                        dataSource={payments}
                        pagination={{ pageSize: 12 }}
                        locale={{ emptyText: '尚无支付记录' }}
                        columns={[
                          { title: '支付日期', dataIndex: 'date', render: (d: string) => formatDay(d) },
                          {
                            title: '金额（万元）',
                            dataIndex: 'amountYuan',
                            align: 'right',
                            render: (y: number) => wan(y),
                          },
                          { title: '依据', dataIndex: 'basis' },
                        ]}
                      />
                    </Space>
                  ),
                },
                {
                  key: 'blockers',
                  label: '堵点',
                  children: (
                    <QueryView query={blockers}>
                      {(b) => (
                        <Table
                          size="small"
                          rowKey="blockerId"
                          dataSource={b.blockers}
                          pagination={false}
                          scroll={{ x: 800 }}
                          locale={{ emptyText: '无堵点' }}
                          columns={[
                            { title: '编号', dataIndex: 'blockerId', width: 200 },
                            { title: '类别', dataIndex: 'categoryLabel', width: 80 },
                            { title: '层级', dataIndex: 'levelLabel', width: 80 },
                            {
                              title: '责任单位',
                              dataIndex: 'responsibleOrg',
                              width: 160,
                              render: (o: string) => orgName(o),
                            },
                            { title: '描述', dataIndex: 'description' },
                            { title: '状态', dataIndex: 'status', width: 100 },
                            {
                              title: '期限',
                              dataIndex: 'dueAt',
                              width: 140,
                              render: (d: string | null) => formatDate(d),
                            },
                          ]}
                        />
                      )}
                    </QueryView>
                  ),
                },
                {
                  key: 'timeline',
                  label: '全过程记录',
                  children: <ProjectTimeline projectId={p.projectId} full={full} />,
                },
              ]}
            />
          </>
        );
      }}
    </QueryView>
  );
}
