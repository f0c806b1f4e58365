/**
 * The leader's decisions on the task page (/tasks/:taskId): tier 2 (专业评审, the special group with invited
 * experts, on 技术方案 / 投资效益 / 风险防控), tier 3 (综合评审, the joint meeting's decision: in the year's
 * 重点项目库 or not, with the 资金分配方案 of a government-invested project) and a deadline's extension (延期).
 */
import { useState } from 'react';
import { Link } from 'react-router-dom';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import {
  Alert,
  App,
  Button,
  DatePicker,
  Divider,
  Form,
  Input,
  InputNumber,
  Modal,
  Radio,
  Select,
  Tag,
  Tooltip,
  Typography,
} from 'antd';
import dayjs, { type Dayjs } from 'dayjs';
import { ApiProblem, get } from '../../api';
import { ProblemAlert, showFieldErrors, useSession } from '../../components/common';
import { formatDay, wan, wanToYuan } from '../../format';
import type { OpenTask, ProjectView } from '../../types';
import {
  formatMonth,
  shanghaiToday,
  sourceTypeOptions,
  textRules,
  useIdempotentPost,
  usePolicy,
} from './shared';

interface ExpertRef {
  expertId: string;
  name: string;
  field: string;
  institution?: string;
  kind: 'EXPERT' | 'THIRD_PARTY';
  termEndsOn: string;
  status: string;
}

export interface ExpertView {
  id: string;
  name: string;
  kind: 'EXPERT' | 'THIRD_PARTY';
  field: string;
  institution?: string;
  title?: string;
  status: 'ACTIVE' | 'EXITED';
  invitable: boolean;
  term: { number: number; startsOn: string; endsOn: string } | null;
  terms: { number: number; startsOn: string; endsOn: string; by: string; at: string }[];
  exit?: { reason: string; by: string; at: string };
  admittedBy: string;
  admittedByOrg: string;
}

export const EXPERT_KIND_LABELS: Record<string, string> = { EXPERT: '专家', THIRD_PARTY: '第三方机构' };

export const SPECIALIST_OUTCOMES: Record<string, string> = {
  RECOMMENDED: '推荐列入重点项目建议清单',
  NOT_RECOMMENDED: '不推荐（作为一般项目继续推进）',
  RETURNED: '退回修改',
};

export const DIMENSIONS = [
  { key: 'technical', label: '技术方案' },
  { key: 'investmentBenefit', label: '投资效益' },
  { key: 'riskControl', label: '风险防控' },
] as const;

const task$ = (task: OpenTask) => `/tasks/${encodeURIComponent(task.id)}`;

/** After a decision: the inbox, the project and the lists read afresh. */
function useRefresh(projectId: string) {
  const queryClient = useQueryClient();
  return () =>
    Promise.all([
      queryClient.invalidateQueries({ queryKey: ['project', projectId] }),
      queryClient.invalidateQueries({ queryKey: ['inbox'] }),
      queryClient.invalidateQueries({ queryKey: ['recommendations'] }),
      queryClient.invalidateQueries({ queryKey: ['key-projects'] }),
      queryClient.invalidateQueries({ queryKey: ['joint-meeting'] }),
    ]);
}

// ------------------------------------------------------------------------------------------------ tier 2

/** 邀请专家: experts and third-party institutions of the pool whose term runs today and who have not exited. */
function InviteExperts({
  task,
  project,
  invited,
}: {
  task: OpenTask;
  project: ProjectView;
  invited: string[];
}) {
  const [form] = Form.useForm<{ expertIds: string[] }>();
  const session = useSession();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const { message } = App.useApp();
  const send = useIdempotentPost();
  const refresh = useRefresh(project.projectId);
  const pool = useQuery({
    queryKey: ['experts', { invitable: 'true' }],
    queryFn: () => get<{ fields: string[]; experts: ExpertView[] }>('/experts', { invitable: 'true' }),
  });
  const options = (pool.data?.experts ?? [])
    .filter((e) => !invited.includes(e.id))
    .map((e) => ({
      value: e.id,
      label: `${e.name}（${e.field}·${EXPERT_KIND_LABELS[e.kind] ?? e.kind}${e.institution ? `·${e.institution}` : ''}）`,
    }));
  return (
    <Form
      form={form}
      layout="vertical"
      aria-label="邀请专家"
      data-testid="invite-experts-form"
      onFinish={(v) => {
        setBusy(true);
        setError(null);
        send(`${task$(task)}/experts`, { expertIds: v.expertIds })
          .then(async () => {
            form.resetFields();
            await refresh();
            message.success(`已邀请 ${v.expertIds.length} 位专家或机构`);
          })
          .catch((err: unknown) => setError(showFieldErrors(form, err, () => ['expertIds'])))
          .finally(() => setBusy(false));
      }}
    >
      {error !== null && <ProblemAlert error={error} />}
      {pool.isError && <ProblemAlert error={pool.error} onRetry={() => void pool.refetch()} />}
      <Form.Item
        label="邀请专家或第三方机构"
        name="expertIds"
        required={false}
        extra={
          <span>
            仅列出在聘期内、未退出的专家库成员。
            {session?.roles.includes('leader') && <Link to="/leader/experts">管理专家库</Link>}
          </span>
        }
        rules={[
          { required: true, message: '请选择要邀请的专家' },
          { type: 'array', max: 30, message: '一次最多邀请 30 位' },
        ]}
      >
        <Select
          mode="multiple"
          allowClear
          loading={pool.isPending}
          options={options}
          showSearch={{ optionFilterProp: 'label' }}
          placeholder={
            pool.isSuccess && options.length === 0 ? '专家库中暂无可邀请的成员' : '按姓名或领域搜索'
          }
          notFoundContent="无可邀请的专家"
        />
      </Form.Item>
      <Button htmlType="submit" loading={busy}>
        邀请
      </Button>
    </Form>
  );
}

interface SpecialistValues {
  outcome: string;
  assessments: Record<(typeof DIMENSIONS)[number]['key'], string>;
  expertOpinions?: { opinion?: string }[];
}

/** 专业评审 (tier 2): invite experts, then decide with the three assessments and the experts' opinions. */
export function SpecialistReviewPanel({
  task,
  project,
  onDone,
}: {
  task: OpenTask;
  project: ProjectView;
  onDone: () => void;
}) {
  const [form] = Form.useForm<SpecialistValues>();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const { message } = App.useApp();
  const send = useIdempotentPost();
  const refresh = useRefresh(project.projectId);
  const outcome = Form.useWatch('outcome', form);
  const invitations = (project.state.expertInvitations ?? []) as { taskId: string; experts: ExpertRef[] }[];
  const invited = invitations.find((i) => i.taskId === task.id)?.experts ?? [];
  return (
    <div data-testid="specialist-review-panel">
      <Typography.Title level={5} style={{ marginTop: 0 }}>
        邀请专家
      </Typography.Title>
      {invited.length > 0 ? (
        <div style={{ marginBottom: 8 }} data-testid="invited-experts">
          已邀请：
          {invited.map((e) => (
            <Tag key={e.expertId}>
              {e.name}（{e.field}）
            </Tag>
          ))}
        </div>
      ) : (
        <Typography.Paragraph type="secondary">尚未邀请专家；也可不邀请专家直接评审。</Typography.Paragraph>
      )}
      <InviteExperts task={task} project={project} invited={invited.map((e) => e.expertId)} />
      <Divider />
      <Typography.Title level={5}>专业评审结论</Typography.Title>
      <Form
        form={form}
        layout="vertical"
        aria-label="专业评审结论"
        data-testid="specialist-review-form"
        initialValues={{ expertOpinions: invited.map(() => ({ opinion: '' })) }}
        onFinish={(v) => {
          // Only the experts who gave an opinion are sent; an error on the n-th sent names its form row.
          const rows = invited
            .map((e, i) => ({
              expertId: e.expertId,
              opinion: v.expertOpinions?.[i]?.opinion?.trim() ?? '',
              i,
            }))
            .filter((o) => o.opinion !== '');
          setBusy(true);
          setError(null);
          send(`${task$(task)}/specialist-review`, {
            outcome: v.outcome,
            assessments: {
              technical: v.assessments.technical,
              investmentBenefit: v.assessments.investmentBenefit,
              riskControl: v.assessments.riskControl,
            },
            ...(rows.length > 0
              ? { expertOpinions: rows.map(({ expertId, opinion }) => ({ expertId, opinion })) }
              : {}),
          })
            .then(async () => {
              await refresh();
              message.success(
                v.outcome === 'RETURNED'
                  ? '已退回修改'
                  : v.outcome === 'RECOMMENDED'
                    ? '已推荐，列入本组重点项目建议清单'
                    : '已评审：不推荐为重点项目',
              );
              onDone();
            })
            .catch((err: unknown) =>
              setError(
                showFieldErrors(form, err, (path) => {
                  const m = /^expertOpinions\.(\d+)/.exec(path);
                  if (m) return ['expertOpinions', rows[Number(m[1])]?.i ?? 0, 'opinion'];
                  return path.split('.');
                }),
              ),
            )
            .finally(() => setBusy(false));
        }}
      >
        {error !== null && <ProblemAlert error={error} />}
        <Form.Item label="评审结论" name="outcome" rules={[{ required: true, message: '请选择评审结论' }]}>
          <Radio.Group
            options={Object.entries(SPECIALIST_OUTCOMES).map(([value, label]) => ({ value, label }))}
          />
        </Form.Item>
        {DIMENSIONS.map((d) => (
          <Form.Item
            key={d.key}
            label={`${d.label}意见`}
            name={['assessments', d.key]}
            rules={textRules(`${d.label}意见`, 2000)}
            extra={
              d.key === 'technical' && outcome === 'RETURNED'
                ? '退回时，技术方案意见作为退回意见告知项目单位。'
                : undefined
            }
          >
            <Input.TextArea rows={3} showCount maxLength={2000} />
          </Form.Item>
        ))}
        {invited.length > 0 && (
          <>
            <Typography.Text strong>专家意见</Typography.Text>
            <Typography.Paragraph type="secondary" style={{ marginBottom: 8 }}>
              未填写意见的专家不记录意见。
            </Typography.Paragraph>
            {invited.map((e, i) => (
              <Form.Item
                key={e.expertId}
                label={`${e.name}（${e.field}·${EXPERT_KIND_LABELS[e.kind] ?? e.kind}）`}
                name={['expertOpinions', i, 'opinion']}
                rules={textRules('专家意见', 2000, false)}
              >
                <Input.TextArea rows={2} maxLength={2000} />
              </Form.Item>
            ))}
          </>
        )}
        <Button type="primary" htmlType="submit" loading={busy}>
          提交专业评审结论
        </Button>
      </Form>
    </div>
  );
}

// ------------------------------------------------------------------------------------------------ tier 3

interface Meeting {
  month: string;
  title: string;
  scheduledOn: string;
  date: string;
  held: boolean;
  postponements: { from: string; to: string; reason: string }[];
}

/** A month's joint meeting, or null when none is scheduled (404). */
export function useMeeting(month: string | undefined) {
  return useQuery({
    queryKey: ['joint-meeting', month],
    enabled: Boolean(month),
    queryFn: async () => {
      try {
        return await get<Meeting>(`/joint-meetings/${month}`);
      } catch (err) {
        if (err instanceof ApiProblem && err.status === 404) return null;
        throw err;
      }
    },
  });
}

interface ComprehensiveValues {
  meetingMonth: Dayjs;
  decision: 'INCLUDED' | 'NOT_INCLUDED' | 'RETURNED';
  opinion?: string;
  fundAllocation?: { amountWan?: string; sourceType?: string; year?: number };
}

const COMPREHENSIVE_DECISIONS: Record<ComprehensiveValues['decision'], string> = {
  INCLUDED: '纳入年度重点项目库',
  NOT_INCLUDED: '不纳入（作为一般项目继续推进）',
  RETURNED: '退回修改',
};

/** 综合评审 (tier 3): the joint meeting's decision, recorded once the meeting has been held. */
export function ComprehensiveReviewPanel({
  task,
  project,
  onDone,
}: {
  task: OpenTask;
  project: ProjectView;
  onDone: () => void;
}) {
  const dueDay = task.deadline?.dueDay;
  const today = shanghaiToday();
  const [form] = Form.useForm<ComprehensiveValues>();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const { message } = App.useApp();
  const send = useIdempotentPost();
  const refresh = useRefresh(project.projectId);
  const policy = usePolicy();
  const picked = Form.useWatch('meetingMonth', form);
  const decision = Form.useWatch('decision', form);
  const month = picked?.format('YYYY-MM');
  const meeting = useMeeting(month);
  const governmentInvested = project.details.flags?.governmentInvested === true;
  const openedDay = shanghaiToday(task.openedAt);
  const meetingYear = month ? Number(month.slice(0, 4)) : Number(today.slice(0, 4));
  const m = meeting.data;
  const usable = Boolean(m && m.held && m.date >= openedDay);
  return (
    <Form
      form={form}
      layout="vertical"
      aria-label="综合评审决定"
      data-testid="comprehensive-review-form"
      initialValues={{
        // The meeting the review waits for: its deadline is the day that meeting is held.
        meetingMonth: dayjs(`${(dueDay ?? today).slice(0, 7)}-01`),
        fundAllocation: { year: Number((dueDay ?? today).slice(0, 4)) },
      }}
      onFinish={(v) => {
        const meetingMonth = v.meetingMonth.format('YYYY-MM');
        const opinion = v.opinion?.trim() ? v.opinion.trim() : undefined;
        const body =
          v.decision === 'RETURNED'
            ? { meetingMonth, returned: true, opinion }
            : {
                meetingMonth,
                included: v.decision === 'INCLUDED',
                ...(opinion ? { opinion } : {}),
                ...(v.decision === 'INCLUDED' && governmentInvested && v.fundAllocation
                  ? {
                      fundAllocation: {
                        amountYuan: wanToYuan(v.fundAllocation.amountWan),
                        sourceType: v.fundAllocation.sourceType,
                        year: v.fundAllocation.year,
                      },
                    }
                  : {}),
              };
        setBusy(true);
        setError(null);
        send(`${task$(task)}/comprehensive-review`, body)
          .then(async () => {
            await refresh();
            message.success(
              v.decision === 'RETURNED'
                ? '已退回修改'
                : v.decision === 'INCLUDED'
                  ? `已纳入${meetingMonth.slice(0, 4)}年度重点项目库`
                  : '已记录：不纳入重点项目库',
            );
            onDone();
          })
          .catch((err: unknown) =>
            setError(
              showFieldErrors(form, err, (path) =>
                path === 'fundAllocation.amountYuan'
                  ? ['fundAllocation', 'amountWan']
                  : path === 'included' || path === 'returned'
                    ? ['decision']
                    : path.split('.'),
              ),
            ),
          )
          .finally(() => setBusy(false));
      }}
    >
      {error !== null && <ProblemAlert error={error} />}
      <Form.Item
        label="联席会议（月份）"
        name="meetingMonth"
        rules={[{ required: true, message: '请选择作出决定的联席会议' }]}
        extra={dueDay ? `本事项等候的联席会议：${formatDay(dueDay)}` : undefined}
      >
        <DatePicker picker="month" allowClear={false} format="YYYY年M月" style={{ width: '100%' }} />
      </Form.Item>
      <div style={{ marginBottom: 16 }} data-testid="meeting-status" aria-live="polite">
        {meeting.isError ? (
          <ProblemAlert error={meeting.error} onRetry={() => void meeting.refetch()} />
        ) : meeting.isPending ? null : m === null || m === undefined ? (
          <Alert
            type="warning"
            showIcon
            title={`${formatMonth(month)}尚未安排联席会议`}
            description={<Link to={`/leader/joint-meetings?month=${month}`}>安排联席会议</Link>}
          />
        ) : !m.held ? (
          <Alert
            type="info"
            showIcon
            title={`${m.title}定于${formatDay(m.date)}召开`}
            description="会议召开后方可录入其决定。"
          />
        ) : m.date < openedDay ? (
          <Alert
            type="warning"
            showIcon
            title={`${m.title}已于${formatDay(m.date)}召开，早于本事项提交会议`}
            description="请选择审议本项目的联席会议。"
          />
        ) : (
          <Alert type="success" showIcon title={`${m.title}已于${formatDay(m.date)}召开`} />
        )}
      </div>
      <Form.Item label="会议决定" name="decision" rules={[{ required: true, message: '请选择会议决定' }]}>
        <Radio.Group
          options={Object.entries(COMPREHENSIVE_DECISIONS).map(([value, label]) => ({ value, label }))}
        />
      </Form.Item>
      {decision === 'INCLUDED' && governmentInvested && (
        <fieldset
          style={{ border: '1px solid #f0f0f0', padding: '8px 12px 0', marginBottom: 16 }}
          data-testid="fund-allocation"
        >
          <legend style={{ fontSize: 14, width: 'auto', padding: '0 4px', margin: 0, border: 0 }}>
            资金分配方案（政府投资项目）
          </legend>
          <Typography.Paragraph type="secondary" style={{ marginBottom: 8 }}>
            总投资 {wan(project.details.totalInvestmentYuan)}，年度计划投资{' '}
            {wan(project.details.annualPlanYuan)}
          </Typography.Paragraph>
          <Form.Item
            label="安排资金（万元）"
            name={['fundAllocation', 'amountWan']}
            rules={[
              { required: true, whitespace: true, message: '请填写安排资金' },
              {
                validator: (_, v: string | undefined) => {
                  if (!v?.trim()) return Promise.resolve();
                  const yuan = wanToYuan(v);
                  if (yuan === undefined)
                    return Promise.reject(new Error('请输入金额，最多 4 位小数（1 元）'));
                  if (yuan < 1) return Promise.reject(new Error('安排资金须大于 0'));
                  if (!Number.isSafeInteger(yuan)) return Promise.reject(new Error('金额过大'));
                  return Promise.resolve();
                },
              },
            ]}
          >
            <Input suffix="万元" inputMode="decimal" autoComplete="off" />
          </Form.Item>
          <Form.Item
            label="资金来源"
            name={['fundAllocation', 'sourceType']}
            rules={[{ required: true, message: '请选择资金来源' }]}
          >
            <Select options={sourceTypeOptions(policy.data)} loading={policy.isPending} />
          </Form.Item>
          <Form.Item
            label="安排年度"
            name={['fundAllocation', 'year']}
            rules={[
              { required: true, message: '请填写安排年度' },
              {
                type: 'integer',
                min: meetingYear - 1,
                max: meetingYear + 5,
                message: `安排年度为 ${meetingYear - 1}–${meetingYear + 5} 年`,
              },
            ]}
          >
            <InputNumber style={{ width: '100%' }} suffix="年" />
          </Form.Item>
        </fieldset>
      )}
      <Form.Item
        label="会议意见"
        name="opinion"
        rules={textRules('会议意见', 2000, decision === 'RETURNED')}
        extra={decision === 'RETURNED' ? '退回须写明意见，告知项目单位修改。' : undefined}
      >
        <Input.TextArea rows={3} showCount maxLength={2000} />
      </Form.Item>
      <Tooltip title={usable ? undefined : '所选联席会议召开后方可录入决定'}>
        <Button type="primary" htmlType="submit" loading={busy} disabled={!usable}>
          录入会议决定
        </Button>
      </Tooltip>
    </Form>
  );
}

// ------------------------------------------------------------------------------------------------ extension

/**
 * 延期: the special group of the project's portfolio or the leading group extends a task's deadline, once per
 * task and by at most the policy's cap (the API refuses anyone else).
 */
export function ExtensionPanel({ task, onDone }: { task: OpenTask; onDone: () => void }) {
  const session = useSession();
  const policy = usePolicy();
  const [open, setOpen] = useState(false);
  const [form] = Form.useForm<{ units: number; reason: string }>();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const { message } = App.useApp();
  const send = useIdempotentPost();
  const queryClient = useQueryClient();
  if (!session?.roles.includes('leader') || !task.deadline) return null;
  const cap = policy.data?.time?.extensions ?? { maxPerTask: 1, maxWorkingDays: 10 };
  const used = task.clock?.extensions?.length ?? 0;
  const unit = task.deadline.basis.includes('自然日') ? '个自然日' : '个工作日';
  const spent = used >= cap.maxPerTask;
  return (
    <>
      <Tooltip title={spent ? `已延期 ${used} 次，达到每个事项 ${cap.maxPerTask} 次的上限` : undefined}>
        <Button onClick={() => setOpen(true)} disabled={spent} data-testid="extension-open">
          延期
        </Button>
      </Tooltip>
      <Modal
        title="延长办理期限"
        open={open}
        okText="确认延期"
        cancelText="取消"
        confirmLoading={busy}
        destroyOnHidden
        onCancel={() => {
          setOpen(false);
          setError(null);
        }}
        onOk={() => form.submit()}
      >
        <Form
          form={form}
          layout="vertical"
          aria-label="延期"
          data-testid="extension-form"
          preserve={false}
          onFinish={(v) => {
            setBusy(true);
            setError(null);
            send(`${task$(task)}/extension`, { units: v.units, reason: v.reason })
              .then(async () => {
                await queryClient.invalidateQueries({ queryKey: ['inbox'] });
                setOpen(false);
                message.success(`已延期 ${v.units} ${unit}`);
                onDone();
              })
              .catch((err: unknown) => setError(showFieldErrors(form, err)))
              .finally(() => setBusy(false));
          }}
        >
          {error !== null && <ProblemAlert error={error} />}
          <Typography.Paragraph type="secondary">
            当前期限 {formatDay(task.deadline.dueDay)}（{task.deadline.basis}）。每个事项至多延期{' '}
            {cap.maxPerTask} 次，每次不超过 {cap.maxWorkingDays} 天（策略规定）。
          </Typography.Paragraph>
          <Form.Item
            label={`延长天数（${unit.slice(1)}）`}
            name="units"
            rules={[
              { required: true, message: '请填写延长天数' },
              {
                type: 'integer',
                min: 1,
                max: cap.maxWorkingDays,
                message: `延长 1–${cap.maxWorkingDays} 天`,
              },
            ]}
          >
            <InputNumber suffix={unit} style={{ width: 200 }} />
          </Form.Item>
          <Form.Item label="延期理由" name="reason" rules={textRules('延期理由', 2000)}>
            <Input.TextArea rows={3} showCount maxLength={2000} />
          </Form.Item>
        </Form>
      </Modal>
    </>
  );
}
