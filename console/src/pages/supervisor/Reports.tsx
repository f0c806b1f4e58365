/**
 * 报告: the stored report snapshots, newest first, by kind; 「立即生成」 runs a supervision job now (the API allows
 * it to the leading group and administrators) and follows it until its snapshot exists.
 */
import { useEffect, useRef, useState } from 'react';
import { Link } from 'react-router-dom';
import { keepPreviousData, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  Alert,
  Button,
  Card,
  DatePicker,
  Form,
  Modal,
  Progress,
  Segmented,
  Select,
  Space,
  Table,
  Tag,
  Tooltip,
} from 'antd';
import { PlusOutlined } from '@ant-design/icons';
import dayjs, { type Dayjs } from 'dayjs';
import { ApiProblem, get, post } from '../../api';
import { PageTitle, ProblemAlert, QueryView, useOrgs, useSession } from '../../components/common';
import { formatDateTime } from '../../format';
import { KIND_OPTIONS, periodLabel, reportName, useUrlFilters } from './shared';
import type { ReportKind, ReportList, ReportSummary } from './types';

const PAGE_SIZE = 20;
/** How long to follow a run before asking to look again later. */
const FOLLOW_MS = 180_000;
const POLL_MS = 2_000;

export function ApprovalTag({ approval }: { approval: ReportSummary['approval'] }) {
  if (!approval) return <span>—</span>;
  return approval.status === 'AWAITING' ? (
    <Tag color="orange">待领导小组审定</Tag>
  ) : (
    <Tag color="green">已审定{approval.approvedAt ? ` ${formatDateTime(approval.approvedAt)}` : ''}</Tag>
  );
}

function periodOf(kind: ReportKind, d: Dayjs): string {
  if (kind === 'MONTHLY_DISPATCH') return d.format('YYYY-MM');
  if (kind === 'ANNUAL_ASSESSMENT') return d.format('YYYY');
  return `${d.format('YYYY')}-Q${Math.floor(d.month() / 3) + 1}`;
}

const PICKER: Record<ReportKind, 'month' | 'quarter' | 'year'> = {
  MONTHLY_DISPATCH: 'month',
  QUARTERLY_ADJUSTMENT: 'quarter',
  QUARTERLY_BULLETIN: 'quarter',
  ANNUAL_ASSESSMENT: 'year',
};

type RunState =
  | { phase: 'idle' }
  | { phase: 'running'; snapshotId: string; startedAt: number; elapsed: number }
  | { phase: 'done'; snapshotId: string }
  | { phase: 'slow'; snapshotId: string };

/** Starts a run and follows it (GET /reports/{id} until it exists). */
function useReportRun() {
  const [state, setState] = useState<RunState>({ phase: 'idle' });
  const queryClient = useQueryClient();
  const cancelled = useRef(false);
  useEffect(() => {
    cancelled.current = false;
    return () => {
      cancelled.current = true;
    };
  }, []);
  const follow = async (snapshotId: string) => {
    const startedAt = Date.now();
    setState({ phase: 'running', snapshotId, startedAt, elapsed: 0 });
    while (!cancelled.current && Date.now() - startedAt < FOLLOW_MS) {
      await new Promise((r) => setTimeout(r, POLL_MS));
      if (cancelled.current) return;
      try {
        await get(`/reports/${snapshotId}/tables`);
        setState({ phase: 'done', snapshotId });
        await queryClient.invalidateQueries({ queryKey: ['supervision', 'reports'] });
        return;
      } catch (err) {
        if (!(err instanceof ApiProblem) || (err.status !== 404 && !err.retryable)) throw err;
      }
      setState({ phase: 'running', snapshotId, startedAt, elapsed: Date.now() - startedAt });
    }
    if (!cancelled.current) setState({ phase: 'slow', snapshotId });
  };
  const start = async (kind: ReportKind, period: string) => {
    const answer = await post<{ workflowId: string; snapshotId: string }>('/reports/run', { kind, period });
    void follow(answer.snapshotId).catch(() => setState({ phase: 'slow', snapshotId: answer.snapshotId }));
  };
  return { state, start, reset: () => setState({ phase: 'idle' }) };
}

function RunProgress({ state, onClose }: { state: RunState; onClose: () => void }) {
  if (state.phase === 'idle') return null;
  const name = <Link to={`/supervision/reports/${state.snapshotId}`}>{state.snapshotId}</Link>;
  if (state.phase === 'running')
    return (
      <Alert
        type="info"
        showIcon
        data-testid="report-run-progress"
        message={<>正在生成报告 {state.snapshotId}</>}
        description={
          <>
            <Progress
              percent={Math.min(95, Math.round((state.elapsed / 30_000) * 100))}
              status="active"
              showInfo={false}
            />
            已用时 {Math.round(state.elapsed / 1000)} 秒，报告生成后自动刷新列表。
          </>
        }
      />
    );
  if (state.phase === 'done')
    return (
      <Alert
        type="success"
        showIcon
        closable
        onClose={onClose}
        data-testid="report-run-progress"
        message={<>报告已生成：{name}</>}
      />
    );
  return (
    <Alert
      type="warning"
      showIcon
      closable
      onClose={onClose}
      data-testid="report-run-progress"
      message={<>报告 {state.snapshotId} 尚未生成完成</>}
      description="生成任务仍在运行或已跳过（同一期报告只生成一次），请稍后刷新列表查看。"
    />
  );
}

function RunDialog({
  open,
  onClose,
  onStart,
}: {
  open: boolean;
  onClose: () => void;
  onStart: (kind: ReportKind, period: string) => Promise<void>;
}) {
  const [form] = Form.useForm<{ kind: ReportKind; period: Dayjs }>();
  const kind = Form.useWatch('kind', form) ?? 'MONTHLY_DISPATCH';
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  return (
    <Modal
      open={open}
      title="立即生成报告"
      okText="生成"
      cancelText="取消"
      confirmLoading={busy}
      destroyOnHidden
      onCancel={onClose}
      onOk={async () => {
        const values = await form.validateFields();
        const period = periodOf(values.kind, values.period);
        setBusy(true);
        setError(null);
        try {
          // Snapshots are immutable: a period already reported is not generated again.
          const exists = await get(`/reports/${values.kind}:${period}/tables`).then(
            () => true,
            (err: unknown) => {
              if (err instanceof ApiProblem && err.status === 404) return false;
              throw err;
            },
          );
          if (exists) {
            setError(
              new ApiProblem(
                409,
                '报告已存在',
                `${periodLabel(period)}的该类报告已生成，报告生成后不可更改。`,
              ),
            );
            return;
          }
          await onStart(values.kind, period);
          onClose();
        } catch (err) {
          setError(err);
        } finally {
          setBusy(false);
        }
      }}
    >
      <Form form={form} layout="vertical" initialValues={{ kind: 'MONTHLY_DISPATCH', period: dayjs() }}>
        <Form.Item name="kind" label="报告类型" rules={[{ required: true }]}>
          <Select options={KIND_OPTIONS.map((o) => ({ ...o }))} />
        </Form.Item>
        <Form.Item name="period" label="统计期" rules={[{ required: true, message: '请选择统计期' }]}>
          <DatePicker
            picker={PICKER[kind]}
            style={{ width: '100%' }}
            disabledDate={(d) => d.isAfter(dayjs(), 'day')}
          />
        </Form.Item>
        <Alert
          type="info"
          showIcon
          message="每类报告每期只生成一次，生成后不可更改；月底调度会报告通常在当月最后一个工作日自动生成。"
        />
        {error !== null && (
          <div style={{ marginTop: 12 }}>
            <ProblemAlert error={error} />
          </div>
        )}
      </Form>
    </Modal>
  );
}

export default function ReportsPage() {
  const session = useSession();
  const orgs = useOrgs();
  const { value, set, page } = useUrlFilters();
  const kind = KIND_OPTIONS.some((o) => o.value === value('kind')) ? value('kind') : '';
  const list = useQuery({
    queryKey: ['supervision', 'reports', kind, page],
    queryFn: () => get<ReportList>('/reports', { kind, page, pageSize: PAGE_SIZE }),
    placeholderData: keepPreviousData,
  });
  const run = useReportRun();
  const [dialog, setDialog] = useState(false);
  const leadingGroup = orgs.data?.find((o) => o.kind === 'LEADING_GROUP')?.id;
  // POST /reports/run: administrators, and leaders of the leading group.
  const mayRun =
    session?.roles.includes('admin') === true ||
    (session?.roles.includes('leader') === true && session.org === leadingGroup);

  const runButton = (
    <Button
      type="primary"
      icon={<PlusOutlined />}
      disabled={!mayRun || run.state.phase === 'running'}
      onClick={() => setDialog(true)}
    >
      立即生成
    </Button>
  );
  return (
    <>
      <PageTitle
        extra={
          mayRun ? (
            runButton
          ) : (
            <Tooltip title="报告由系统按期自动生成；立即生成由领导小组或管理员操作">{runButton}</Tooltip>
          )
        }
      >
        报告
      </PageTitle>
      <Space direction="vertical" size={16} style={{ width: '100%' }}>
        <RunProgress state={run.state} onClose={run.reset} />
        <Card>
          <Segmented
            aria-label="报告类型"
            style={{ marginBottom: 16 }}
            value={kind || 'ALL'}
            onChange={(v) => set({ kind: v === 'ALL' ? '' : String(v) })}
            options={[
              { value: 'ALL', label: '全部' },
              ...KIND_OPTIONS.map((o) => ({ value: o.value, label: o.label })),
            ]}
          />
          <QueryView query={list}>
            {(data) => (
              <Table<ReportSummary>
                data-testid="reports-table"
                rowKey="id"
                size="middle"
                dataSource={data.reports}
                scroll={{ x: 900 }}
                locale={{ emptyText: '暂无报告' }}
                pagination={{
                  current: data.page,
                  pageSize: data.pageSize,
                  total: data.total,
                  showTotal: (n) => `共 ${n} 份`,
                  onChange: (p) => set({ page: p }),
                }}
                columns={[
                  {
                    title: '报告',
                    dataIndex: 'id',
                    render: (id: string, r) => (
                      <Link to={`/supervision/reports/${id}`}>{reportName(r.kindLabel, r.period)}</Link>
                    ),
                  },
                  {
                    title: '类型',
                    dataIndex: 'kindLabel',
                    width: 170,
                    render: (l: string) => <Tag>{l}</Tag>,
                  },
                  {
                    title: '生成时间',
                    dataIndex: 'createdAt',
                    width: 190,
                    render: (d: string) => formatDateTime(d),
                  },
                  { title: '项目数', dataIndex: 'projectCount', width: 90, align: 'right' },
                  {
                    title: '审定',
                    dataIndex: 'approval',
                    width: 220,
                    render: (a: ReportSummary['approval']) => <ApprovalTag approval={a} />,
                  },
                ]}
              />
            )}
          </QueryView>
        </Card>
      </Space>
      <RunDialog open={dialog} onClose={() => setDialog(false)} onStart={run.start} />
    </>
  );
}
