/**
 * 月度联席会议: a month's joint meeting of the leading group — scheduled on the month's last working day unless
 * another day is named, postponed (顺延) when it must be, the tier-3 reviews waiting for it and the decisions it took;
 * and the month-end dispatch meeting's postponement (调度会顺延).
 */
import { useState } from 'react';
import { Link } from 'react-router-dom';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import {
  Alert,
  App,
  Button,
  Card,
  Col,
  DatePicker,
  Descriptions,
  Empty,
  Form,
  Input,
  Row,
  Space,
  Table,
  Tag,
  Typography,
} from 'antd';
import dayjs, { type Dayjs } from 'dayjs';
import { ApiProblem, get, post } from '../../api';
import { PageTitle, ProblemAlert, QueryView, showFieldErrors } from '../../components/common';
import { formatDateTime, formatDay, shanghaiMonth, wan } from '../../format';
import { EscalationBadge } from '../Inbox';
import {
  addMonth,
  formatMonth,
  MONTH_RE,
  shanghaiToday,
  textRules,
  urlPagination,
  useLeaderPlace,
  useUrlState,
} from './shared';

interface MeetingDetail {
  month: string;
  title: string;
  scheduledOn: string;
  date: string;
  held: boolean;
  postponements: { from: string; to: string; reason: string; by: string; at: string }[];
  createdBy: string;
  createdAt: string;
  waiting: {
    taskId: string;
    projectId: string;
    projectName: string;
    dueDay: string | null;
    escalationLevel: number;
  }[];
  decisions: {
    taskId: string;
    projectId: string;
    projectName: string;
    outcome: 'INCLUDED' | 'NOT_INCLUDED' | 'RETURNED';
    opinion: string | null;
    fundAllocation: { amountYuan: number; sourceLabel: string; year: number } | null;
    decidedBy: { userId: string; name?: string } | null;
    decidedAt: string | null;
  }[];
}

interface PostponeAnswer {
  date: string;
  rescheduled: { projectId: string; message: string }[];
  failed: { projectId: string; status: number; type: string; detail: string }[];
}

const OUTCOMES: Record<string, [string, string]> = {
  INCLUDED: ['纳入重点项目库', 'green'],
  NOT_INCLUDED: ['不纳入', 'default'],
  RETURNED: ['退回修改', 'orange'],
};

/** The last day a meeting of `month` may be postponed to: the end of the next month. */
const postponeLimit = (month: string) =>
  dayjs(`${addMonth(month, 1)}-01`)
    .endOf('month')
    .format('YYYY-MM-DD');

function useMeetingDetail(month: string) {
  return useQuery({
    queryKey: ['joint-meeting', month, 'detail'],
    queryFn: async () => {
      try {
        return await get<MeetingDetail>(`/joint-meetings/${month}`);
      } catch (err) {
        if (err instanceof ApiProblem && err.status === 404) return null;
        throw err;
      }
    },
  });
}

function useRefreshMeeting() {
  const queryClient = useQueryClient();
  return () =>
    Promise.all([
      queryClient.invalidateQueries({ queryKey: ['joint-meeting'] }),
      queryClient.invalidateQueries({ queryKey: ['inbox'] }),
    ]);
}

/** 安排联席会议: on the month's last working day unless a day of the month is named. */
function ScheduleMeeting({ month }: { month: string }) {
  const [form] = Form.useForm<{ date?: Dayjs }>();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const { message } = App.useApp();
  const refresh = useRefreshMeeting();
  return (
    <Form
      form={form}
      layout="vertical"
      aria-label="安排联席会议"
      data-testid="schedule-meeting-form"
      style={{ maxWidth: 420 }}
      onFinish={(v) => {
        setBusy(true);
        setError(null);
        post<{ date: string }>('/joint-meetings', {
          month,
          ...(v.date ? { date: v.date.format('YYYY-MM-DD') } : {}),
        })
          .then(async (m) => {
            await refresh();
            message.success(`已安排，${formatDay(m.date)}召开`);
          })
          .catch((err: unknown) => setError(showFieldErrors(form, err)))
          .finally(() => setBusy(false));
      }}
    >
      {error !== null && <ProblemAlert error={error} />}
      <Form.Item
        label="召开日期（可选）"
        name="date"
        extra="不填则在该月最后一个工作日召开（按工作日历）。"
        rules={[
          {
            validator: (_, d: Dayjs | undefined) =>
              !d || d.format('YYYY-MM') === month
                ? Promise.resolve()
                : Promise.reject(new Error(`须在${formatMonth(month)}内`)),
          },
        ]}
      >
        <DatePicker
          style={{ width: '100%' }}
          defaultPickerValue={dayjs(`${month}-01`)}
          disabledDate={(d) => d.format('YYYY-MM') !== month}
        />
      </Form.Item>
      <Button type="primary" htmlType="submit" loading={busy}>
        安排{formatMonth(month)}联席会议
      </Button>
    </Form>
  );
}

/** 顺延: to a later day, at most to the end of the next month; the waiting reviews' deadlines follow. */
function PostponeMeeting({ meeting }: { meeting: MeetingDetail }) {
  const [form] = Form.useForm<{ to: Dayjs; reason: string }>();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<PostponeAnswer | null>(null);
  const { message } = App.useApp();
  const refresh = useRefreshMeeting();
  const limit = postponeLimit(meeting.month);
  return (
    <Form
      form={form}
      layout="vertical"
      aria-label="联席会议顺延"
      data-testid="postpone-meeting-form"
      onFinish={(v) => {
        setBusy(true);
        setError(null);
        setResult(null);
        post<PostponeAnswer>(`/joint-meetings/${meeting.month}/postponement`, {
          to: v.to.format('YYYY-MM-DD'),
          reason: v.reason.trim(),
        })
          .then(async (r) => {
            setResult(r);
            form.resetFields();
            await refresh();
            message.success(`已顺延至${formatDay(r.date)}`);
          })
          .catch((err: unknown) => setError(showFieldErrors(form, err)))
          .finally(() => setBusy(false));
      }}
    >
      {error !== null && <ProblemAlert error={error} />}
      {result && (
        <Alert
          style={{ marginBottom: 12 }}
          type={result.failed.length ? 'warning' : 'success'}
          showIcon
          title={`已顺延至${formatDay(result.date)}；${result.rescheduled.length} 个待审项目的期限随之调整`}
          description={
            result.failed.length > 0 && (
              <ul style={{ margin: 0, paddingLeft: 18 }}>
                {result.failed.map((f) => (
                  <li key={f.projectId}>
                    <Link to={`/projects/${f.projectId}`}>{f.projectId}</Link>：未能调整（{f.detail}）
                  </li>
                ))}
              </ul>
            )
          }
        />
      )}
      <Form.Item
        label="顺延至"
        name="to"
        extra={`须晚于${formatDay(meeting.date)}，最迟${formatDay(limit)}。`}
        rules={[
          { required: true, message: '请选择顺延后的日期' },
          {
            validator: (_, d: Dayjs | undefined) => {
              const day = d?.format('YYYY-MM-DD');
              if (!day) return Promise.resolve();
              if (day <= meeting.date) return Promise.reject(new Error(`须晚于${formatDay(meeting.date)}`));
              if (day > limit) return Promise.reject(new Error(`最迟顺延至${formatDay(limit)}`));
              return Promise.resolve();
            },
          },
        ]}
      >
        <DatePicker
          style={{ width: '100%' }}
          defaultPickerValue={dayjs(meeting.date)}
          disabledDate={(d) => {
            const day = d.format('YYYY-MM-DD');
            return day <= meeting.date || day > limit;
          }}
        />
      </Form.Item>
      <Form.Item label="顺延原因" name="reason" rules={textRules('顺延原因', 500)}>
        <Input.TextArea rows={2} maxLength={500} showCount />
      </Form.Item>
      <Button htmlType="submit" loading={busy}>
        顺延联席会议
      </Button>
    </Form>
  );
}

function MeetingView({ meeting, canManage }: { meeting: MeetingDetail; canManage: boolean }) {
  const url = useUrlState();
  const today = shanghaiToday();
  const canPostpone = canManage && meeting.date >= today;
  return (
    <Row gutter={[16, 16]}>
      <Col xs={24} xl={canPostpone ? 15 : 24}>
        <Descriptions
          size="small"
          bordered
          column={{ xs: 1, md: 2 }}
          data-testid="meeting-detail"
          title={
            <Space>
              {meeting.title}
              {meeting.held ? <Tag color="green">已召开</Tag> : <Tag color="blue">待召开</Tag>}
            </Space>
          }
        >
          <Descriptions.Item label="原定日期">{formatDay(meeting.scheduledOn)}</Descriptions.Item>
          <Descriptions.Item label="召开日期">{formatDay(meeting.date)}</Descriptions.Item>
          <Descriptions.Item label="待审项目">{meeting.waiting.length} 个</Descriptions.Item>
          <Descriptions.Item label="已作决定">{meeting.decisions.length} 个</Descriptions.Item>
        </Descriptions>
        {meeting.postponements.length > 0 && (
          <Table
            style={{ marginTop: 12 }}
            size="small"
            rowKey={(p) => `${p.from}-${p.to}`}
            pagination={false}
            dataSource={meeting.postponements}
            scroll={{ x: 700 }}
            title={() => '顺延记录'}
            columns={[
              { title: '原日期', dataIndex: 'from', width: 140, render: (d: string) => formatDay(d) },
              { title: '顺延至', dataIndex: 'to', width: 140, render: (d: string) => formatDay(d) },
              { title: '原因', dataIndex: 'reason' },
              { title: '办理人', dataIndex: 'by', width: 120 },
              { title: '时间', dataIndex: 'at', width: 170, render: (d: string) => formatDateTime(d) },
            ]}
          />
        )}
      </Col>
      {canPostpone && (
        <Col xs={24} xl={9}>
          <Card size="small" title="顺延">
            <PostponeMeeting meeting={meeting} />
          </Card>
        </Col>
      )}
      <Col span={24}>
        <Typography.Title level={5}>提交本次会议的综合评审（{meeting.waiting.length}）</Typography.Title>
        <Table
          data-testid="meeting-waiting-table"
          size="small"
          rowKey="taskId"
          dataSource={meeting.waiting}
          scroll={{ x: 700 }}
          locale={{ emptyText: '没有等候本次会议的综合评审' }}
          pagination={urlPagination(url, 'waitingPage', 10, '个项目')}
          columns={[
            {
              title: '项目名称',
              width: 240,
              dataIndex: 'projectName',
              render: (n: string, w) => <Link to={`/projects/${w.projectId}`}>{n}</Link>,
            },
            {
              title: '审议期限',
              dataIndex: 'dueDay',
              width: 150,
              render: (d: string | null) => formatDay(d),
            },
            {
              title: '督办',
              dataIndex: 'escalationLevel',
              width: 120,
              render: (l: number) => <EscalationBadge level={l} />,
            },
            {
              title: '操作',
              width: 120,
              render: (_, w) =>
                canManage ? (
                  <Link to={`/tasks/${encodeURIComponent(w.taskId)}`}>
                    {meeting.held ? '录入决定' : '查看'}
                  </Link>
                ) : (
                  '—'
                ),
            },
          ]}
        />
      </Col>
      <Col span={24}>
        <Typography.Title level={5}>会议决定（{meeting.decisions.length}）</Typography.Title>
        <Table
          data-testid="meeting-decisions-table"
          size="small"
          rowKey="taskId"
          dataSource={meeting.decisions}
          scroll={{ x: 900 }}
          locale={{ emptyText: '尚未录入本次会议的决定' }}
          pagination={urlPagination(url, 'decisionsPage', 10, '项决定')}
          columns={[
            {
              title: '项目名称',
              width: 240,
              dataIndex: 'projectName',
              render: (n: string, d) => <Link to={`/projects/${d.projectId}`}>{n || d.projectId}</Link>,
            },
            {
              title: '决定',
              dataIndex: 'outcome',
              width: 140,
              render: (o: string) => <Tag color={OUTCOMES[o]?.[1]}>{OUTCOMES[o]?.[0] ?? o}</Tag>,
            },
            {
              title: '资金分配',
              width: 220,
              render: (_, d) =>
                d.fundAllocation
                  ? `${wan(d.fundAllocation.amountYuan)}（${d.fundAllocation.sourceLabel}，${d.fundAllocation.year}年）`
                  : '—',
            },
            { title: '意见', dataIndex: 'opinion', render: (o: string | null) => o ?? '—' },
            {
              title: '录入',
              width: 170,
              render: (_, d) => (
                <span>
                  {d.decidedBy?.name ?? d.decidedBy?.userId ?? '—'}
                  <br />
                  <Typography.Text type="secondary">{formatDateTime(d.decidedAt)}</Typography.Text>
                </span>
              ),
            },
          ]}
        />
      </Col>
    </Row>
  );
}

/** 调度会顺延: the month-end dispatch meeting (月底专题调度会) moved to a later day, with the reason. */
function DispatchPostponement() {
  const [form] = Form.useForm<{ month: Dayjs; postponedTo: Dayjs; reason: string }>();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<{ month: string; postponedTo: string } | null>(null);
  const { message } = App.useApp();
  const month = Form.useWatch('month', form)?.format('YYYY-MM');
  return (
    <Form
      form={form}
      layout="vertical"
      aria-label="月底专题调度会顺延"
      data-testid="dispatch-postponement-form"
      initialValues={{ month: dayjs(`${shanghaiMonth()}-01`) }}
      onFinish={(v) => {
        setBusy(true);
        setError(null);
        setDone(null);
        post<{ month: string; postponedTo: string }>('/reports/dispatch-postponement', {
          month: v.month.format('YYYY-MM'),
          postponedTo: v.postponedTo.format('YYYY-MM-DD'),
          reason: v.reason.trim(),
        })
          .then((r) => {
            setDone(r);
            message.success('已记录调度会顺延');
          })
          .catch((err: unknown) => setError(showFieldErrors(form, err)))
          .finally(() => setBusy(false));
      }}
    >
      {error !== null && <ProblemAlert error={error} />}
      {done && (
        <Alert
          style={{ marginBottom: 12 }}
          type="success"
          showIcon
          title={`${formatMonth(done.month)}专题调度会顺延至${formatDay(done.postponedTo)}`}
        />
      )}
      <Row gutter={16}>
        <Col xs={24} md={8}>
          <Form.Item label="调度会月份" name="month" rules={[{ required: true, message: '请选择月份' }]}>
            <DatePicker picker="month" format="YYYY年M月" allowClear={false} style={{ width: '100%' }} />
          </Form.Item>
        </Col>
        <Col xs={24} md={8}>
          <Form.Item
            label="顺延至"
            name="postponedTo"
            dependencies={['month']}
            rules={[
              { required: true, message: '请选择顺延后的日期' },
              {
                validator: (_, d: Dayjs | undefined) =>
                  !d || !month || d.format('YYYY-MM') >= month
                    ? Promise.resolve()
                    : Promise.reject(new Error('顺延不能提前到调度会月份之前')),
              },
            ]}
          >
            <DatePicker
              style={{ width: '100%' }}
              disabledDate={(d) => month !== undefined && d.format('YYYY-MM') < month}
            />
          </Form.Item>
        </Col>
        <Col xs={24} md={8}>
          <Form.Item label="顺延原因" name="reason" rules={textRules('顺延原因', 500)}>
            <Input maxLength={500} />
          </Form.Item>
        </Col>
      </Row>
      <Button htmlType="submit" loading={busy}>
        记录调度会顺延
      </Button>
    </Form>
  );
}

export function JointMeetingsPage() {
  const url = useUrlState();
  const place = useLeaderPlace();
  const current = shanghaiMonth();
  const raw = url.value('month');
  const month = MONTH_RE.test(raw) ? raw : current;
  const detail = useMeetingDetail(month);
  const go = (m: string) => url.set({ month: m === current ? '' : m, waitingPage: '', decisionsPage: '' });
  return (
    <>
      <PageTitle>月度联席会议</PageTitle>
      <Card>
        <Form layout="inline" aria-label="选择月份" style={{ marginBottom: 16, rowGap: 8 }}>
          <Form.Item label="会议月份">
            <DatePicker
              picker="month"
              format="YYYY年M月"
              allowClear={false}
              value={dayjs(`${month}-01`)}
              onChange={(d: Dayjs | null) => d && go(d.format('YYYY-MM'))}
            />
          </Form.Item>
          <Form.Item>
            <Space>
              <Button onClick={() => go(addMonth(month, -1))}>上月</Button>
              <Button onClick={() => go(current)} disabled={month === current}>
                本月
              </Button>
              <Button onClick={() => go(addMonth(month, 1))}>下月</Button>
            </Space>
          </Form.Item>
        </Form>
        <QueryView query={detail}>
          {(m) =>
            m === null ? (
              <div data-testid="meeting-none">
                <Empty description={`${formatMonth(month)}尚未安排联席会议`} style={{ marginBottom: 16 }} />
                {place.isLeadingGroup ? (
                  <ScheduleMeeting month={month} />
                ) : (
                  <Typography.Paragraph type="secondary">联席会议由领导小组安排。</Typography.Paragraph>
                )}
              </div>
            ) : (
              <MeetingView meeting={m} canManage={place.isLeadingGroup} />
            )
          }
        </QueryView>
      </Card>
      {place.isLeadingGroup && (
        <Card title="月底专题调度会顺延" style={{ marginTop: 16 }}>
          <Typography.Paragraph type="secondary">
            每月月底召开专题调度会，特殊情况可顺延；顺延后月度调度报告按新的日期生成。
          </Typography.Paragraph>
          <DispatchPostponement />
        </Card>
      )}
    </>
  );
}
