/**
 * 月度进度填报: the owner's monthly report, with last month's figures beside each field and the period due.
 * A figure lower than last month's cumulative is refused by the API; its error shows beside the field.
 */
import { useState } from 'react';
import { useNavigate, useParams } from 'react-router-dom';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Alert, App, Button, Card, Col, Descriptions, Form, Input, Row, Space } from 'antd';
import { get, post } from '../api';
import { PageTitle, ProblemAlert, QueryView, showFieldErrors, wanRule } from '../components/common';
import { shanghaiMonth, wan, wanToYuan, yuanToWanText } from '../format';
import type { ProgressReport as ProgressReportFigures, ProjectView } from '../types';

interface Values {
  period: string;
  ytdWan: string;
  cumulativeWan: string;
  fundsWan: string;
  physicalProgress: string;
  nextMonthPlan?: string;
  problems?: string;
}

const FIELD_OF_PATH: Record<string, keyof Values> = {
  ytdInvestmentYuan: 'ytdWan',
  cumulativeInvestmentYuan: 'cumulativeWan',
  fundsReceivedYuan: 'fundsWan',
};

function ReportForm({ project }: { project: ProjectView }) {
  const [form] = Form.useForm<Values>();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const { message } = App.useApp();
  const reports = project.state.reports ?? [];
  // Before its first report here, an onboarded project's last figures are those it was entered with.
  const entered = project.state.investmentToDate as
    | {
        asOf: string;
        ytdInvestmentYuan: number;
        cumulativeInvestmentYuan: number;
        cumulativePaidYuan?: number;
      }
    | undefined;
  const last:
    | Pick<
        ProgressReportFigures,
        'period' | 'ytdInvestmentYuan' | 'cumulativeInvestmentYuan' | 'fundsReceivedYuan' | 'physicalProgress'
      >
    | undefined =
    reports[reports.length - 1] ??
    (entered
      ? {
          period: entered.asOf.slice(0, 7),
          ytdInvestmentYuan: entered.ytdInvestmentYuan,
          cumulativeInvestmentYuan: entered.cumulativeInvestmentYuan,
          fundsReceivedYuan: entered.cumulativePaidYuan ?? 0,
          physicalProgress: '入库时数据',
        }
      : undefined);
  const obligation = project.state.reportObligation as
    { nextPeriod?: string; firstPeriod?: string } | undefined;
  const filed = new Set(reports.map((r) => r.period));
  // The period due: the month just ended unless already filed (the report of month M is due early in M+1).
  const current = shanghaiMonth();
  const [y, m] = current.split('-').map(Number) as [number, number];
  const previous = m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, '0')}`;
  const due = !filed.has(previous) ? previous : current;
  const lastHint = (field: 'ytdInvestmentYuan' | 'cumulativeInvestmentYuan' | 'fundsReceivedYuan') =>
    last ? `上月（${last.period}）：${wan(last[field])}` : '首次填报';
  return (
    <Row gutter={16}>
      <Col xs={24} xl={16}>
        <Card>
          {error !== null && <ProblemAlert error={error} />}
          <Form<Values>
            form={form}
            layout="vertical"
            aria-label="月度进度"
            initialValues={{ period: due, ytdWan: '', cumulativeWan: '', fundsWan: '' }}
            onFinish={(v) => {
              setBusy(true);
              setError(null);
              post(`/projects/${project.projectId}/progress-reports`, {
                period: v.period,
                ytdInvestmentYuan: wanToYuan(v.ytdWan) ?? v.ytdWan,
                cumulativeInvestmentYuan: wanToYuan(v.cumulativeWan) ?? v.cumulativeWan,
                fundsReceivedYuan: wanToYuan(v.fundsWan) ?? v.fundsWan,
                physicalProgress: v.physicalProgress,
                ...(v.nextMonthPlan?.trim() ? { nextMonthPlan: v.nextMonthPlan } : {}),
                ...(v.problems?.trim() ? { problems: v.problems } : {}),
              })
                .then(async () => {
                  await queryClient.invalidateQueries({ queryKey: ['project', project.projectId] });
                  message.success('月度进度已报送');
                  void navigate(`/projects/${project.projectId}?tab=investment`);
                })
                .catch((err: unknown) => setError(showFieldErrors(form, err, (p) => [FIELD_OF_PATH[p] ?? p])))
                .finally(() => setBusy(false));
            }}
          >
            <Form.Item
              label="报告月份"
              name="period"
              rules={[{ required: true, pattern: /^\d{4}-(0[1-9]|1[0-2])$/, message: 'YYYY-MM' }]}
            >
              <Input style={{ width: 160 }} />
            </Form.Item>
            <Form.Item
              label="本年累计完成投资（万元）"
              name="ytdWan"
              extra={lastHint('ytdInvestmentYuan')}
              rules={[{ required: true, message: '请填写' }, wanRule]}
            >
              <Input suffix="万元" inputMode="decimal" />
            </Form.Item>
            <Form.Item
              label="开工累计完成投资（万元）"
              name="cumulativeWan"
              extra={lastHint('cumulativeInvestmentYuan')}
              rules={[{ required: true, message: '请填写' }, wanRule]}
            >
              <Input suffix="万元" inputMode="decimal" />
            </Form.Item>
            <Form.Item
              label="累计到位资金（万元）"
              name="fundsWan"
              extra={lastHint('fundsReceivedYuan')}
              rules={[{ required: true, message: '请填写' }, wanRule]}
            >
              <Input suffix="万元" inputMode="decimal" />
            </Form.Item>
            <Form.Item
              label="形象进度"
              name="physicalProgress"
              rules={[{ required: true, max: 2000, message: '请填写形象进度' }]}
            >
              <Input.TextArea rows={3} />
            </Form.Item>
            <Form.Item label="下月计划" name="nextMonthPlan" rules={[{ max: 2000 }]}>
              <Input.TextArea rows={2} />
            </Form.Item>
            <Form.Item label="存在问题" name="problems" rules={[{ max: 2000 }]}>
              <Input.TextArea rows={2} />
            </Form.Item>
            <Space>
              <Button type="primary" htmlType="submit" loading={busy}>
                报送
              </Button>
              <Button onClick={() => void navigate(-1)}>取消</Button>
            </Space>
          </Form>
        </Card>
      </Col>
      <Col xs={24} xl={8}>
        <Card title="上月数据" size="small" data-testid="last-month">
          {last ? (
            <Descriptions column={1} size="small">
              <Descriptions.Item label="月份">{last.period}</Descriptions.Item>
              <Descriptions.Item label="本年累计完成">{wan(last.ytdInvestmentYuan)}</Descriptions.Item>
              <Descriptions.Item label="开工累计完成">{wan(last.cumulativeInvestmentYuan)}</Descriptions.Item>
              <Descriptions.Item label={reports.length ? '累计到位资金' : '累计支付'}>
                {wan(last.fundsReceivedYuan)}
              </Descriptions.Item>
              <Descriptions.Item label="形象进度">{last.physicalProgress}</Descriptions.Item>
            </Descriptions>
          ) : (
            <span>尚无报告</span>
          )}
        </Card>
        <Card title="应报" size="small" style={{ marginTop: 16 }}>
          <Alert
            type={filed.has(previous) ? 'success' : 'warning'}
            showIcon
            message={filed.has(previous) ? `${previous} 已报送` : `应报送 ${previous} 月度进度`}
            description={obligation?.firstPeriod ? `自 ${obligation.firstPeriod} 起按月报送` : undefined}
          />
          <div style={{ marginTop: 8, color: '#888' }}>
            年度计划投资 {wan(project.details.annualPlanYuan)}；总投资{' '}
            {wan(project.details.totalInvestmentYuan)}
            {last ? `；开工累计完成 ${yuanToWanText(last.cumulativeInvestmentYuan)} 万元` : ''}
          </div>
        </Card>
      </Col>
    </Row>
  );
}

export default function ProgressReportPage() {
  const { id = '' } = useParams();
  const project = useQuery({ queryKey: ['project', id], queryFn: () => get<ProjectView>(`/projects/${id}`) });
  return (
    <QueryView query={project}>
      {(p) => (
        <>
          <PageTitle>月度进度填报 · {p.details.name}</PageTitle>
          <ReportForm project={p} />
        </>
      )}
    </QueryView>
  );
}
