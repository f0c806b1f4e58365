/**
 * 办理: one task — the project's facts, the earlier tiers' opinions, the deadline, and the decision. Only the
 * organisation the task is assigned to may open it; anyone else sees 无权访问 (and the API refuses them too).
 */
import { useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router-dom';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import {
  Alert,
  App,
  Button,
  Card,
  Col,
  DatePicker,
  Descriptions,
  Form,
  Input,
  Modal,
  Radio,
  Row,
  Select,
  Space,
  Tag,
} from 'antd';
import type { Dayjs } from 'dayjs';
import { ApiProblem, get, post } from '../api';
import {
  Forbidden,
  PageTitle,
  ProblemAlert,
  QueryView,
  showFieldErrors,
  useOrgName,
  useSession,
} from '../components/common';
import { isReviewDecision, ProjectFacts, ReviewOpinions } from '../components/ProjectFacts';
import {
  DECISION_LABELS,
  formatDateTime,
  formatDay,
  stageLabel,
  TASK_KIND_LABELS,
  wanToYuan,
} from '../format';
import { EscalationBadge } from './Inbox';
import { ComprehensiveReviewPanel, ExtensionPanel, SpecialistReviewPanel } from './leader/review-panels';
import type { OpenTask, ProjectView, TrailEvent } from '../types';

const NOT_CLOSING = [
  'TASK_OPENED',
  'DEADLINE_SET',
  'CLOCK_PAUSED',
  'CLOCK_RESUMED',
  'DEADLINE_EXTENDED',
  'EXPERTS_INVITED',
];

const PAUSE_REASONS: Record<string, string> = {
  SUPPLEMENT: '补正材料',
  EXPERT_REVIEW: '专家评审',
  HEARING: '听证',
};

function useDone() {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const { message } = App.useApp();
  return async (text: string) => {
    await queryClient.invalidateQueries();
    message.success(text);
    void navigate('/inbox');
  };
}

/** Tier-1 screening and other reviews: 通过 / 退回修改 / 不通过, with an opinion. */
function ReviewDecision({ task }: { task: OpenTask }) {
  const [form] = Form.useForm<{ decision: string; opinion: string }>();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const done = useDone();
  const decision = Form.useWatch('decision', form);
  return (
    <Form
      form={form}
      layout="vertical"
      aria-label="审核决定"
      onFinish={(v) => {
        setBusy(true);
        setError(null);
        post(`/tasks/${encodeURIComponent(task.id)}/decision`, {
          decision: v.decision,
          opinion: v.opinion ?? '',
        })
          .then(() => done(`已${DECISION_LABELS[v.decision] ?? '办理'}`))
          .catch((err: unknown) => setError(showFieldErrors(form, err)))
          .finally(() => setBusy(false));
      }}
    >
      {error !== null && <ProblemAlert error={error} />}
      <Form.Item label="审核结论" name="decision" rules={[{ required: true, message: '请选择审核结论' }]}>
        <Radio.Group
          optionType="button"
          buttonStyle="solid"
          options={['PASS', 'RETURN', 'REJECT'].map((d) => ({ value: d, label: DECISION_LABELS[d]! }))}
        />
      </Form.Item>
      <Form.Item
        label="审核意见"
        name="opinion"
        rules={[
          { max: 2000 },
          // A return or a rejection tells the owner why; the owner edits against it.
          {
            required: decision === 'RETURN' || decision === 'REJECT',
            whitespace: true,
            message: '退回或不通过须写明意见',
          },
        ]}
      >
        <Input.TextArea rows={4} placeholder="审核意见" />
      </Form.Item>
      <Button type="primary" htmlType="submit" loading={busy}>
        提交审核结论
      </Button>
    </Form>
  );
}

/** A matter or step done: its document number and date (and the approved estimate, for the 概算 approval). */
function CompleteTask({ task }: { task: OpenTask }) {
  const [form] = Form.useForm<{
    documentNumber: string;
    date: Dayjs;
    approvedEstimateWan?: string;
    note?: string;
  }>();
  const [error, setError] = useState<unknown>(null);
  const done = useDone();
  return (
    <Form
      form={form}
      layout="vertical"
      aria-label="办结"
      onFinish={(v) => {
        setError(null);
        post(`/tasks/${encodeURIComponent(task.id)}/complete`, {
          documentNumber: v.documentNumber,
          date: v.date.format('YYYY-MM-DD'),
          ...(v.approvedEstimateWan
            ? { approvedEstimateYuan: wanToYuan(v.approvedEstimateWan) ?? v.approvedEstimateWan }
            : {}),
          ...(v.note ? { note: v.note } : {}),
        })
          .then(() => done('已办结'))
          .catch((err: unknown) =>
            setError(
              showFieldErrors(form, err, (p) => [p === 'approvedEstimateYuan' ? 'approvedEstimateWan' : p]),
            ),
          );
      }}
    >
      {error !== null && <ProblemAlert error={error} />}
      <Form.Item label="文号" name="documentNumber" rules={[{ required: true, max: 100 }]}>
        <Input />
      </Form.Item>
      <Form.Item label="办结日期" name="date" rules={[{ required: true }]}>
        <DatePicker />
      </Form.Item>
      <Form.Item label="批复概算（万元，可选）" name="approvedEstimateWan">
        <Input suffix="万元" inputMode="decimal" />
      </Form.Item>
      <Form.Item label="备注" name="note" rules={[{ max: 2000 }]}>
        <Input.TextArea rows={2} />
      </Form.Item>
      <Button type="primary" htmlType="submit">
        办结
      </Button>
    </Form>
  );
}

/**
 * A yes-or-no decision with an opinion: 开工条件核查 (confirm or refuse the owner's start application) and
 * 调整申请 (市发改委 approves or refuses a change of facts others rely on).
 */
function TwoWayDecision({
  task,
  action,
  title,
  choices,
  submitText,
  doneText,
}: {
  task: OpenTask;
  action: 'start-check' | 'change-decision';
  title: string;
  choices: { value: string; label: string }[];
  submitText: string;
  doneText: string;
}) {
  const [form] = Form.useForm<{ decision: string; opinion?: string }>();
  const [error, setError] = useState<unknown>(null);
  const done = useDone();
  return (
    <Form
      form={form}
      layout="vertical"
      aria-label={title}
      onFinish={(v) =>
        post(`/tasks/${encodeURIComponent(task.id)}/${action}`, {
          decision: v.decision,
          ...(v.opinion ? { opinion: v.opinion } : {}),
        })
          .then(() => done(doneText))
          .catch((err: unknown) => setError(showFieldErrors(form, err)))
      }
    >
      {error !== null && <ProblemAlert error={error} />}
      <Form.Item label={title} name="decision" rules={[{ required: true, message: '请选择' }]}>
        <Radio.Group options={choices} />
      </Form.Item>
      <Form.Item label="意见" name="opinion" rules={[{ max: 2000 }]}>
        <Input.TextArea rows={3} />
      </Form.Item>
      <Button type="primary" htmlType="submit">
        {submitText}
      </Button>
    </Form>
  );
}

/** 计时暂停/恢复: the clock stops for a supplement, an expert review or a hearing (with the reason). */
function ClockControls({ task, onDone }: { task: OpenTask; onDone: () => void }) {
  const [open, setOpen] = useState(false);
  const [form] = Form.useForm<{ reason: string; note?: string }>();
  const [error, setError] = useState<unknown>(null);
  const { message } = App.useApp();
  const pauses = task.clock?.pauses ?? [];
  const paused = pauses.some((p) => p.to === undefined || p.to === null);
  if (paused)
    return (
      <Button
        onClick={() =>
          post(`/tasks/${encodeURIComponent(task.id)}/resume`, {})
            .then(() => {
              message.success('已恢复计时');
              onDone();
            })
            .catch((err: unknown) => setError(err))
        }
      >
        恢复计时
      </Button>
    );
  return (
    <>
      <Button onClick={() => setOpen(true)}>暂停计时</Button>
      {error !== null && !open && <ProblemAlert error={error} />}
      <Modal
        title="暂停计时"
        open={open}
        okText="暂停"
        onCancel={() => setOpen(false)}
        onOk={() => {
          form
            .validateFields()
            .then((v) => post(`/tasks/${encodeURIComponent(task.id)}/pause`, v))
            .then(() => {
              setOpen(false);
              message.success('已暂停计时');
              onDone();
            })
            .catch((err: unknown) => {
              if (err instanceof ApiProblem) setError(showFieldErrors(form, err));
            });
        }}
      >
        {error !== null && <ProblemAlert error={error} />}
        <Form form={form} layout="vertical">
          <Form.Item label="暂停原因" name="reason" rules={[{ required: true, message: '请选择原因' }]}>
            <Select options={Object.entries(PAUSE_REASONS).map(([v, l]) => ({ value: v, label: l }))} />
          </Form.Item>
          <Form.Item label="说明" name="note" rules={[{ max: 2000 }]}>
            <Input.TextArea rows={3} />
          </Form.Item>
        </Form>
      </Modal>
    </>
  );
}

function DecisionArea({
  task,
  project,
  onDone,
}: {
  task: OpenTask;
  project: ProjectView;
  onDone: () => void;
}) {
  if (task.kind === 'REVIEW' && task.tier === 2)
    return <SpecialistReviewPanel task={task} project={project} onDone={onDone} />;
  if (task.kind === 'REVIEW' && task.tier === 3)
    return <ComprehensiveReviewPanel task={task} project={project} onDone={onDone} />;
  if (task.kind === 'REVIEW') return <ReviewDecision task={task} />;
  if (task.kind === 'CHANGE_REQUEST')
    return (
      <TwoWayDecision
        task={task}
        action="change-decision"
        title="调整申请决定"
        choices={[
          { value: 'APPROVE', label: '同意调整' },
          { value: 'REFUSE', label: '不同意' },
        ]}
        submitText="提交决定"
        doneText="已决定"
      />
    );
  if (task.kind === 'GATE' && /START/i.test(task.key))
    return (
      <TwoWayDecision
        task={task}
        action="start-check"
        title="开工条件核查"
        choices={[
          { value: 'CONFIRM', label: '确认具备开工条件' },
          { value: 'REFUSE', label: '不具备' },
        ]}
        submitText="提交核查结论"
        doneText="已核查"
      />
    );
  if (task.kind === 'APPROVAL_MATTER' || task.kind === 'STEP') return <CompleteTask task={task} />;
  if (task.kind === 'BLOCKER')
    return (
      <Alert
        type="info"
        showIcon
        message="问题协调事项"
        description={<Link to={`/projects/${project.projectId}?tab=blockers`}>到项目的问题协调中办理</Link>}
      />
    );
  return (
    <Alert
      type="info"
      showIcon
      message="此事项在项目页办理"
      description={<Link to={`/projects/${project.projectId}`}>打开项目</Link>}
    />
  );
}

export default function TaskPage() {
  const { taskId = '' } = useParams();
  const session = useSession();
  const orgName = useOrgName();
  const projectId = taskId.split('~')[0] ?? '';
  const project = useQuery({
    queryKey: ['project', projectId],
    queryFn: () => get<ProjectView>(`/projects/${projectId}`),
    enabled: Boolean(projectId),
  });
  const events = useQuery({
    queryKey: ['project', projectId, 'events'],
    queryFn: () => get<{ events: TrailEvent[] }>(`/projects/${projectId}/events`),
    enabled: Boolean(projectId),
  });
  if (!projectId || !taskId.includes('~')) return <Forbidden detail="没有这个事项。" />;
  if (
    project.isError &&
    project.error instanceof ApiProblem &&
    (project.error.status === 403 || project.error.status === 404)
  )
    return <Forbidden />;
  return (
    <QueryView query={project}>
      {(p) => {
        const task = p.openTasks.find((t) => t.id === taskId);
        if (!task) {
          // Decided or done: an event of this task other than its opening and its clock.
          const closed = events.data?.events.find(
            (e) => e.data.taskId === taskId && (isReviewDecision(e) || !NOT_CLOSING.includes(e.type)),
          );
          return closed ? (
            <Alert
              type="success"
              showIcon
              message="此事项已办结"
              description={<Link to={`/projects/${p.projectId}`}>查看项目</Link>}
            />
          ) : (
            <Forbidden detail="此事项不在您的待办中，或已办结。" />
          );
        }
        const mine = session?.org === task.assigneeOrg;
        if (!mine) return <Forbidden />;
        return (
          <>
            <PageTitle extra={<Link to={`/projects/${p.projectId}`}>查看项目全貌</Link>}>
              {task.title} · {p.details.name}
            </PageTitle>
            <Row gutter={[16, 16]}>
              <Col xs={24} xl={16}>
                <Card title="项目基本情况" size="small">
                  <ProjectFacts project={p} />
                </Card>
                <Card title="此前评审意见" size="small" style={{ marginTop: 16 }}>
                  <ReviewOpinions events={events.data?.events ?? []} />
                </Card>
              </Col>
              <Col xs={24} xl={8}>
                <Card title="办理" size="small" data-testid="decision-card">
                  <Descriptions column={1} size="small" style={{ marginBottom: 12 }}>
                    <Descriptions.Item label="事项">
                      {task.title} <Tag>{TASK_KIND_LABELS[task.kind] ?? task.kind}</Tag>
                    </Descriptions.Item>
                    <Descriptions.Item label="阶段">{stageLabel(task.stage)}</Descriptions.Item>
                    <Descriptions.Item label="承办单位">{orgName(task.assigneeOrg)}</Descriptions.Item>
                    <Descriptions.Item label="收到时间">{formatDateTime(task.openedAt)}</Descriptions.Item>
                    <Descriptions.Item label="办理期限">
                      {task.deadline
                        ? `${formatDay(task.deadline.dueDay)}（${task.deadline.basis}${task.deadline.provisional ? '，暂定' : ''}）` +
                          (task.deadline.escalationsProvisional
                            ? '；逾期升级时间暂定（次年节假日安排未发布）'
                            : task.deadline.escalationsRefused
                              ? '；逾期升级节点因次年节假日安排未加载而未计算'
                              : '')
                        : '无'}
                    </Descriptions.Item>
                    <Descriptions.Item label="督办">
                      <EscalationBadge level={task.escalationLevel} />
                    </Descriptions.Item>
                  </Descriptions>
                  <DecisionArea task={task} project={p} onDone={() => void project.refetch()} />
                  <Space wrap style={{ marginTop: 16 }}>
                    {task.deadline && <ClockControls task={task} onDone={() => void project.refetch()} />}
                    <ExtensionPanel task={task} onDone={() => void project.refetch()} />
                  </Space>
                </Card>
              </Col>
            </Row>
          </>
        );
      }}
    </QueryView>
  );
}
