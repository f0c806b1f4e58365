/**
 * 工作日历: the years the work calendar covers (the holiday package, and official arrangements loaded here — every
 * load a new version, earlier ones kept to explain old deadlines) and the city's local working-day overrides. A year
 * without data is never silently Monday–Friday: deadlines reaching into it are provisional until it is loaded.
 */
import { useState } from 'react';
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
  InputNumber,
  Radio,
  Row,
  Space,
  Table,
  Tag,
  Typography,
} from 'antd';
import dayjs, { type Dayjs } from 'dayjs';
import { get, post, put } from '../../api';
import { PageTitle, ProblemAlert, QueryView, showFieldErrors } from '../../components/common';
import { formatDateTime, formatDay } from '../../format';
import { isRealDay, shanghaiToday, textRules, urlPagination, useUrlState } from '../leader/shared';

interface CalendarVersion {
  year: number;
  holidays: string[];
  makeupWorkdays: string[];
  noticeNumber?: string;
  source: string;
  version: number;
  loadedAt: string;
  loadedBy: string;
}

interface Override {
  date: string;
  kind: 'holiday' | 'workday';
  reason: string;
  addedAt: string;
  addedBy: string;
}

interface CalendarsAnswer {
  version: string;
  coveredYears: number[];
  loaded: { _id: string; versions: CalendarVersion[] }[];
  overrides: { version: number; overrides: Override[] };
}

const KIND_LABELS: Record<Override['kind'], string> = { holiday: '放假', workday: '上班' };
const WEEKDAYS = '日一二三四五六';

/**
 * Days as an administrator copies them from the State Council's notice: one per line or separated by commas, and
 * spans written 2027-10-01~2027-10-07 (or 至). Returns the sorted days, or the first thing that is not a day.
 */
function parseDays(text: string | undefined): { days: string[] } | { error: string } {
  const normalized = (text ?? '').replace(/\s*(?:~|～|至)\s*/g, '~').trim();
  if (!normalized) return { days: [] };
  const out = new Set<string>();
  for (const token of normalized.split(/[\s,，;；、]+/).filter(Boolean)) {
    const m = /^(\d{4}-\d{2}-\d{2})(?:~(\d{4}-\d{2}-\d{2}))?$/.exec(token);
    if (!m || !isRealDay(m[1]!) || (m[2] !== undefined && !isRealDay(m[2])))
      return { error: `“${token}”不是日期（应为 YYYY-MM-DD，区间写作 YYYY-MM-DD~YYYY-MM-DD）` };
    const from = dayjs(m[1]);
    const to = dayjs(m[2] ?? m[1]);
    if (to.isBefore(from)) return { error: `区间“${token}”的结束早于开始` };
    if (to.diff(from, 'day') > 60) return { error: `区间“${token}”过长` };
    for (let d = from; !d.isAfter(to); d = d.add(1, 'day')) out.add(d.format('YYYY-MM-DD'));
  }
  return { days: [...out].sort() };
}

const daysOf = (text: string | undefined) => {
  const r = parseDays(text);
  return 'days' in r ? r.days : [];
};

/** Consecutive days joined into spans. */
function spansOf(days: string[]): [string, string][] {
  const spans: [string, string][] = [];
  for (const d of [...days].sort()) {
    const last = spans.at(-1);
    if (last && dayjs(last[1]).add(1, 'day').format('YYYY-MM-DD') === d) last[1] = d;
    else spans.push([d, d]);
  }
  return spans;
}

/** Days as the form takes them: one span a line, 2027-10-01~2027-10-07. */
const spanText = (days: string[]) =>
  spansOf(days)
    .map(([a, b]) => (a === b ? a : `${a}~${b}`))
    .join('\n');

/** Days in words, consecutive ones joined. */
function DayList({ days }: { days: string[] }) {
  if (days.length === 0) return <span>无</span>;
  const spans = spansOf(days);
  return (
    <span>
      {spans.map(([a, b]) => (a === b ? formatDay(a) : `${formatDay(a)}至${formatDay(b)}`)).join('；')}
    </span>
  );
}

interface YearValues {
  year: number;
  noticeNumber: string;
  holidays: string;
  makeupWorkdays: string;
}

/** 加载年度节假日安排 (PUT /calendars/:year): a new version of the year, checked as the engine checks it. */
function LoadYear({
  data,
  draft,
  onLoaded,
}: {
  data: CalendarsAnswer;
  draft: Partial<YearValues> | null;
  onLoaded: () => Promise<unknown>;
}) {
  const [form] = Form.useForm<YearValues>();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const { message } = App.useApp();
  const year = Form.useWatch('year', form);
  const holidays = daysOf(Form.useWatch('holidays', form));
  const makeup = daysOf(Form.useWatch('makeupWorkdays', form));
  const existing = data.loaded.find((y) => y._id === String(year));
  const daysRule = (label: string, max: number, weekendOnly: boolean) => ({
    validator: (_: unknown, text: string | undefined) => {
      const r = parseDays(text);
      if ('error' in r) return Promise.reject(new Error(r.error));
      if (r.days.length > max)
        return Promise.reject(new Error(`${label}最多 ${max} 天，现有 ${r.days.length} 天`));
      const y = form.getFieldValue('year') as number | undefined;
      const other = r.days.find((d) => y && !d.startsWith(`${y}-`));
      if (other) return Promise.reject(new Error(`${formatDay(other)}不在 ${y} 年内`));
      if (weekendOnly) {
        const weekday = r.days.find((d) => ![0, 6].includes(dayjs(d).day()));
        if (weekday)
          return Promise.reject(
            new Error(`调休上班日须为周末：${formatDay(weekday)}是星期${WEEKDAYS[dayjs(weekday).day()]}`),
          );
        const both = r.days.find((d) => daysOf(form.getFieldValue('holidays') as string).includes(d));
        if (both) return Promise.reject(new Error(`${formatDay(both)}既是放假日又是上班日`));
      }
      return Promise.resolve();
    },
  });
  return (
    <Form
      form={form}
      layout="vertical"
      aria-label="加载年度节假日安排"
      data-testid="calendar-year-form"
      initialValues={{
        year: Math.max(Number(shanghaiToday().slice(0, 4)) + 1, (data.coveredYears.at(-1) ?? 0) + 1),
        ...draft,
      }}
      onFinish={(v) => {
        setBusy(true);
        setError(null);
        put<CalendarVersion>(`/calendars/${v.year}`, {
          noticeNumber: v.noticeNumber.trim(),
          holidays: daysOf(v.holidays),
          makeupWorkdays: daysOf(v.makeupWorkdays),
        })
          .then(async (r) => {
            await onLoaded();
            message.success(`已加载 ${r.year} 年节假日安排（第 ${r.version} 版）`);
            form.resetFields(['noticeNumber', 'holidays', 'makeupWorkdays']);
          })
          .catch((err: unknown) =>
            setError(
              showFieldErrors(form, err, (path) => {
                const top = path.split('.')[0]!;
                return [top];
              }),
            ),
          )
          .finally(() => setBusy(false));
      }}
    >
      {error !== null && <ProblemAlert error={error} />}
      <Row gutter={16}>
        <Col xs={24} sm={8}>
          <Form.Item
            label="年份"
            name="year"
            rules={[
              { required: true, message: '请填写年份' },
              { type: 'integer', min: 2000, max: 2100, message: '年份为 2000–2100' },
            ]}
            extra={
              existing
                ? `已有 ${existing.versions.length} 个版本，将形成第 ${existing.versions.length + 1} 版`
                : '首次加载'
            }
          >
            <InputNumber suffix="年" style={{ width: '100%' }} />
          </Form.Item>
        </Col>
        <Col xs={24} sm={16}>
          <Form.Item label="通知文号" name="noticeNumber" rules={textRules('通知文号', 100)}>
            <Input placeholder="如 国办发明电〔2026〕7号" maxLength={100} />
          </Form.Item>
        </Col>
      </Row>
      <Form.Item
        label="放假日"
        name="holidays"
        dependencies={['year']}
        rules={[daysRule('放假日', 60, false)]}
        extra={
          <span>
            法定节假日放假的全部日期（含其中的周末），每行一个或用逗号分隔，区间写作 2027-10-01~2027-10-07。
            已识别 {holidays.length} 天。
          </span>
        }
      >
        <Input.TextArea rows={4} placeholder={'2027-01-01\n2027-02-06~2027-02-13'} />
      </Form.Item>
      <Form.Item
        label="调休上班日"
        name="makeupWorkdays"
        dependencies={['year', 'holidays']}
        rules={[daysRule('调休上班日', 20, true)]}
        extra={`须为周六或周日。已识别 ${makeup.length} 天。`}
      >
        <Input.TextArea rows={2} placeholder="2027-02-14, 2027-09-26" />
      </Form.Item>
      <Button type="primary" htmlType="submit" loading={busy}>
        加载
      </Button>
    </Form>
  );
}

/** 本地调整 (POST /calendars/overrides): a day the city declares off, or a working day. */
function AddOverride({ onAdded }: { onAdded: () => Promise<unknown> }) {
  const [form] = Form.useForm<{ date: Dayjs; kind: Override['kind']; reason: string }>();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const { message } = App.useApp();
  return (
    <Form
      form={form}
      layout="vertical"
      aria-label="本地调整"
      data-testid="calendar-override-form"
      initialValues={{ kind: 'holiday' }}
      onFinish={(v) => {
        setBusy(true);
        setError(null);
        post<{ version: number }>('/calendars/overrides', {
          date: v.date.format('YYYY-MM-DD'),
          kind: v.kind,
          reason: v.reason.trim(),
        })
          .then(async (r) => {
            await onAdded();
            form.resetFields();
            message.success(`已添加本地调整（第 ${r.version} 版）`);
          })
          .catch((err: unknown) => setError(showFieldErrors(form, err)))
          .finally(() => setBusy(false));
      }}
    >
      {error !== null && <ProblemAlert error={error} />}
      <Row gutter={16}>
        <Col xs={24} sm={8}>
          <Form.Item label="日期" name="date" rules={[{ required: true, message: '请选择日期' }]}>
            <DatePicker style={{ width: '100%' }} />
          </Form.Item>
        </Col>
        <Col xs={24} sm={8}>
          <Form.Item label="调整为" name="kind" rules={[{ required: true }]}>
            <Radio.Group
              optionType="button"
              options={Object.entries(KIND_LABELS).map(([value, label]) => ({ value, label }))}
            />
          </Form.Item>
        </Col>
        <Col xs={24} sm={8}>
          <Form.Item label="依据或原因" name="reason" rules={textRules('依据或原因', 500)}>
            <Input maxLength={500} placeholder="如 市政府通知调整" />
          </Form.Item>
        </Col>
      </Row>
      <Typography.Paragraph type="secondary">同一日期再次调整将替换原调整。</Typography.Paragraph>
      <Button htmlType="submit" loading={busy}>
        添加调整
      </Button>
    </Form>
  );
}

export function CalendarsPage() {
  const url = useUrlState();
  const queryClient = useQueryClient();
  const [draft, setDraft] = useState<Partial<YearValues> | null>(null);
  const calendars = useQuery({ queryKey: ['calendars'], queryFn: () => get<CalendarsAnswer>('/calendars') });
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['calendars'] });
  const thisYear = Number(shanghaiToday().slice(0, 4));
  return (
    <>
      <PageTitle>工作日历</PageTitle>
      <QueryView query={calendars}>
        {(data) => {
          const missing = [thisYear, thisYear + 1].filter((y) => !data.coveredYears.includes(y));
          const years = [...data.loaded].sort((a, b) => Number(b._id) - Number(a._id));
          const overrides = [...data.overrides.overrides].sort((a, b) => b.date.localeCompare(a.date));
          return (
            <Space orientation="vertical" size={16} style={{ width: '100%' }}>
              <Card>
                <Descriptions size="small" column={{ xs: 1, md: 2 }} data-testid="calendar-coverage">
                  <Descriptions.Item label="日历版本">
                    <Typography.Text code>{data.version}</Typography.Text>
                  </Descriptions.Item>
                  <Descriptions.Item label="本地调整">第 {data.overrides.version} 版</Descriptions.Item>
                  <Descriptions.Item label="已覆盖年份" span={2}>
                    <Space wrap size={4}>
                      {data.coveredYears.map((y) => (
                        <Tag key={y} color={y >= thisYear ? 'blue' : 'default'}>
                          {y}
                        </Tag>
                      ))}
                    </Space>
                  </Descriptions.Item>
                </Descriptions>
                {missing.length > 0 && (
                  <Alert
                    type="warning"
                    showIcon
                    data-testid="calendar-missing"
                    title={`${missing.join('、')} 年尚无节假日安排`}
                    description="跨入这些年份的期限将标为暂定，并提醒管理员。国务院办公厅发布通知后请在下方加载。"
                  />
                )}
              </Card>
              <Card title="已加载的年度安排">
                <Table
                  data-testid="calendar-years-table"
                  rowKey="_id"
                  size="small"
                  dataSource={years}
                  pagination={false}
                  scroll={{ x: 800 }}
                  locale={{ emptyText: '尚未加载年度安排（使用节假日数据包）' }}
                  expandable={{
                    columnTitle: '历次版本',
                    columnWidth: 90,
                    expandedRowRender: (y) => (
                      <Table
                        size="small"
                        rowKey="version"
                        pagination={false}
                        dataSource={[...y.versions].reverse()}
                        columns={[
                          {
                            title: '版本',
                            dataIndex: 'version',
                            width: 70,
                            render: (v: number) => `第 ${v} 版`,
                          },
                          { title: '通知文号', dataIndex: 'noticeNumber', width: 200 },
                          { title: '放假日', render: (_, v) => <DayList days={v.holidays} /> },
                          {
                            title: '调休上班',
                            width: 220,
                            render: (_, v) => <DayList days={v.makeupWorkdays} />,
                          },
                          {
                            title: '加载',
                            width: 170,
                            render: (_, v) => `${v.loadedBy} · ${formatDateTime(v.loadedAt)}`,
                          },
                        ]}
                      />
                    ),
                  }}
                  columns={[
                    { title: '年份', dataIndex: '_id', width: 80 },
                    {
                      title: '现行版本',
                      width: 240,
                      render: (_, y) => {
                        const v = y.versions.at(-1);
                        return v ? `第 ${v.version} 版 · ${v.noticeNumber ?? '—'}` : '—';
                      },
                    },
                    {
                      title: '放假日',
                      width: 90,
                      render: (_, y) => `${y.versions.at(-1)?.holidays.length ?? 0} 天`,
                    },
                    {
                      title: '调休上班',
                      width: 90,
                      render: (_, y) => `${y.versions.at(-1)?.makeupWorkdays.length ?? 0} 天`,
                    },
                    {
                      title: '加载',
                      width: 200,
                      render: (_, y) => {
                        const v = y.versions.at(-1);
                        return v ? `${v.loadedBy} · ${formatDateTime(v.loadedAt)}` : '—';
                      },
                    },
                    {
                      title: '操作',
                      width: 140,
                      render: (_, y) => {
                        const v = y.versions.at(-1);
                        return v ? (
                          <Button
                            size="small"
                            aria-label={`以 ${y._id} 年现行版本为底稿`}
                            onClick={() => {
                              setDraft({
                                year: v.year,
                                noticeNumber: v.noticeNumber ?? '',
                                holidays: spanText(v.holidays),
                                makeupWorkdays: spanText(v.makeupWorkdays),
                              });
                              document.getElementById('load-year')?.scrollIntoView({ behavior: 'smooth' });
                            }}
                          >
                            以此为底稿修改
                          </Button>
                        ) : null;
                      },
                    },
                  ]}
                />
              </Card>
              <Card title="加载年度节假日安排" id="load-year">
                <LoadYear key={JSON.stringify(draft)} data={data} draft={draft} onLoaded={refresh} />
              </Card>
              <Card title="本地调整">
                <AddOverride onAdded={refresh} />
                <Table
                  style={{ marginTop: 16 }}
                  data-testid="calendar-overrides-table"
                  rowKey="date"
                  size="small"
                  dataSource={overrides}
                  scroll={{ x: 700 }}
                  locale={{ emptyText: '暂无本地调整' }}
                  pagination={urlPagination(url, 'overridesPage', 10, '项调整')}
                  columns={[
                    {
                      title: '日期',
                      dataIndex: 'date',
                      width: 180,
                      render: (d: string) => `${formatDay(d)}（星期${WEEKDAYS[dayjs(d).day()]}）`,
                    },
                    {
                      title: '调整为',
                      dataIndex: 'kind',
                      width: 90,
                      render: (k: Override['kind']) => (
                        <Tag color={k === 'holiday' ? 'red' : 'blue'}>{KIND_LABELS[k] ?? k}</Tag>
                      ),
                    },
                    { title: '依据或原因', dataIndex: 'reason' },
                    {
                      title: '添加',
                      width: 200,
                      render: (_, o) => `${o.addedBy} · ${formatDateTime(o.addedAt)}`,
                    },
                  ]}
                />
              </Card>
            </Space>
          );
        }}
      </QueryView>
    </>
  );
}
