/**
 * 专家库: experts and third-party institutions by field (经济, 规划, 工程, 环保, …), each admitted for a term (届) of
 * the policy's length, renewed (续聘) or exited (退出, with the reason kept). Kept by the leading group, the special
 * groups and administrators; the special groups invite its members to their tier-2 reviews.
 */
import { useState, type ReactNode } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import {
  App,
  Button,
  Card,
  Col,
  DatePicker,
  Form,
  Input,
  InputNumber,
  Modal,
  Radio,
  Row,
  Select,
  Space,
  Table,
  Tag,
  Typography,
} from 'antd';
import type { Dayjs } from 'dayjs';
import { get, post } from '../../api';
import {
  PageTitle,
  ProblemAlert,
  QueryView,
  showFieldErrors,
  useSession,
  UrlSearch,
} from '../../components/common';
import { formatDateTime, formatDay } from '../../format';
import { EXPERT_KIND_LABELS, type ExpertView } from './review-panels';
import { dayOf, textRules, urlPagination, useLeaderPlace, usePolicy, useUrlState } from './shared';

interface PoolAnswer {
  fields: string[];
  termYears: number;
  experts: ExpertView[];
}

function useRefreshPool() {
  const queryClient = useQueryClient();
  return () => queryClient.invalidateQueries({ queryKey: ['experts'] });
}

/** A small modal form: opened by a button, errors beside its fields, closed on success. */
function ModalForm<V extends object>({
  trigger,
  title,
  okText,
  submit,
  children,
  testId,
  initialValues,
}: {
  trigger: (open: () => void) => ReactNode;
  title: string;
  okText: string;
  submit: (values: V) => Promise<string>;
  children: ReactNode;
  testId: string;
  initialValues?: Partial<V>;
}) {
  const [open, setOpen] = useState(false);
  const [form] = Form.useForm<V>();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const { message } = App.useApp();
  return (
    <>
      {trigger(() => setOpen(true))}
      <Modal
        title={title}
        open={open}
        okText={okText}
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
          preserve={false}
          aria-label={title}
          data-testid={testId}
          initialValues={initialValues}
          onFinish={(v) => {
            setBusy(true);
            setError(null);
            submit(v)
              .then((text) => {
                setOpen(false);
                message.success(text);
              })
              .catch((err: unknown) => setError(showFieldErrors(form, err)))
              .finally(() => setBusy(false));
          }}
        >
          {error !== null && <ProblemAlert error={error} />}
          {children}
        </Form>
      </Modal>
    </>
  );
}

interface AdmitValues {
  name: string;
  kind: 'EXPERT' | 'THIRD_PARTY';
  field: string;
  institution?: string;
  title?: string;
  termNumber: number;
  termStartsOn: Dayjs;
}

function AdmitExpert({ fields, termYears }: { fields: string[]; termYears: number }) {
  const refresh = useRefreshPool();
  return (
    <ModalForm<AdmitValues>
      title="专家库准入"
      okText="准入"
      testId="admit-expert-form"
      initialValues={{ kind: 'EXPERT', termNumber: 1 }}
      trigger={(open) => (
        <Button type="primary" onClick={open}>
          准入专家或机构
        </Button>
      )}
      submit={async (v) => {
        await post('/experts', {
          name: v.name.trim(),
          kind: v.kind,
          field: v.field,
          ...(v.institution?.trim() ? { institution: v.institution.trim() } : {}),
          ...(v.title?.trim() ? { title: v.title.trim() } : {}),
          termNumber: v.termNumber,
          termStartsOn: dayOf(v.termStartsOn),
        });
        await refresh();
        return `已准入：${v.name.trim()}`;
      }}
    >
      <Form.Item label="类型" name="kind" rules={[{ required: true }]}>
        <Radio.Group
          options={Object.entries(EXPERT_KIND_LABELS).map(([value, label]) => ({ value, label }))}
        />
      </Form.Item>
      <Form.Item label="姓名或机构名称" name="name" rules={textRules('姓名或机构名称', 100)}>
        <Input maxLength={100} />
      </Form.Item>
      <Form.Item label="专业领域" name="field" rules={[{ required: true, message: '请选择专业领域' }]}>
        <Select options={fields.map((f) => ({ value: f, label: f }))} />
      </Form.Item>
      <Form.Item label="工作单位" name="institution" rules={textRules('工作单位', 200, false)}>
        <Input maxLength={200} placeholder="高校、智库、设计院等（可选）" />
      </Form.Item>
      <Form.Item label="职称或资质" name="title" rules={textRules('职称或资质', 100, false)}>
        <Input maxLength={100} placeholder="可选" />
      </Form.Item>
      <Row gutter={16}>
        <Col span={12}>
          <Form.Item
            label="届次"
            name="termNumber"
            rules={[
              { required: true, message: '请填写届次' },
              { type: 'integer', min: 1, max: 99, message: '届次为 1–99' },
            ]}
          >
            <InputNumber prefix="第" suffix="届" style={{ width: '100%' }} />
          </Form.Item>
        </Col>
        <Col span={12}>
          <Form.Item
            label="聘期开始日"
            name="termStartsOn"
            rules={[{ required: true, message: '请选择聘期开始日' }]}
            extra={`聘期 ${termYears} 年`}
          >
            <DatePicker style={{ width: '100%' }} />
          </Form.Item>
        </Col>
      </Row>
    </ModalForm>
  );
}

function RenewExpert({ expert }: { expert: ExpertView }) {
  const refresh = useRefreshPool();
  return (
    <ModalForm<{ termNumber?: number; termStartsOn?: Dayjs }>
      title={`续聘：${expert.name}`}
      okText="续聘"
      testId="renew-expert-form"
      trigger={(open) => (
        <Button size="small" onClick={open} aria-label={`续聘 ${expert.name}`}>
          续聘
        </Button>
      )}
      submit={async (v) => {
        await post(`/experts/${expert.id}/renewal`, {
          ...(v.termNumber ? { termNumber: v.termNumber } : {}),
          ...(v.termStartsOn ? { termStartsOn: dayOf(v.termStartsOn) } : {}),
        });
        await refresh();
        return `已续聘：${expert.name}`;
      }}
    >
      <Typography.Paragraph type="secondary">
        当前：
        {expert.terms.at(-1)
          ? `第 ${expert.terms.at(-1)!.number} 届，至${formatDay(expert.terms.at(-1)!.endsOn)}`
          : '—'}
        。不填则为下一届，自当前聘期结束次日起。
      </Typography.Paragraph>
      <Form.Item
        label="届次（可选）"
        name="termNumber"
        rules={[{ type: 'integer', min: 1, max: 99, message: '届次为 1–99' }]}
      >
        <InputNumber prefix="第" suffix="届" style={{ width: '100%' }} />
      </Form.Item>
      <Form.Item label="聘期开始日（可选）" name="termStartsOn">
        <DatePicker style={{ width: '100%' }} />
      </Form.Item>
    </ModalForm>
  );
}

function ExitExpert({ expert }: { expert: ExpertView }) {
  const refresh = useRefreshPool();
  return (
    <ModalForm<{ reason: string }>
      title={`退出专家库：${expert.name}`}
      okText="确认退出"
      testId="exit-expert-form"
      trigger={(open) => (
        <Button size="small" danger onClick={open} aria-label={`退出 ${expert.name}`}>
          退出
        </Button>
      )}
      submit={async (v) => {
        await post(`/experts/${expert.id}/exit`, { reason: v.reason.trim() });
        await refresh();
        return `${expert.name} 已退出专家库`;
      }}
    >
      <Typography.Paragraph type="secondary">退出后不能再被邀请参加评审；退出原因留档。</Typography.Paragraph>
      <Form.Item label="退出原因" name="reason" rules={textRules('退出原因', 2000)}>
        <Input.TextArea rows={3} maxLength={2000} showCount />
      </Form.Item>
    </ModalForm>
  );
}

export function ExpertPoolPage() {
  const url = useUrlState();
  const session = useSession();
  const place = useLeaderPlace();
  const policy = usePolicy();
  const field = url.value('field');
  const kind = url.value('kind');
  const status = url.value('status', 'ACTIVE');
  const q = url.value('q');
  const pool = useQuery({
    queryKey: ['experts', { field, kind, status }],
    queryFn: () =>
      get<PoolAnswer>('/experts', { field, kind, status: status === 'ALL' ? undefined : status }),
  });
  const canManage = Boolean(session?.roles.includes('admin')) || place.isLeadingGroup || place.isSpecialGroup;
  const fields = pool.data?.fields ?? policy.data?.experts?.fields ?? [];
  const termYears = pool.data?.termYears ?? policy.data?.experts?.termYears ?? 2;
  return (
    <>
      <PageTitle extra={canManage && <AdmitExpert fields={fields} termYears={termYears} />}>专家库</PageTitle>
      <Card>
        <Form layout="inline" aria-label="筛选" style={{ marginBottom: 16, rowGap: 8 }}>
          <Form.Item label="专业领域">
            <Select
              style={{ width: 130 }}
              value={field}
              onChange={(v) => url.set({ field: v })}
              options={[{ value: '', label: '全部' }, ...fields.map((f) => ({ value: f, label: f }))]}
            />
          </Form.Item>
          <Form.Item label="类型">
            <Select
              style={{ width: 130 }}
              value={kind}
              onChange={(v) => url.set({ kind: v })}
              options={[
                { value: '', label: '全部' },
                ...Object.entries(EXPERT_KIND_LABELS).map(([value, label]) => ({ value, label })),
              ]}
            />
          </Form.Item>
          <Form.Item label="状态">
            <Select
              style={{ width: 110 }}
              value={status}
              onChange={(v) => url.set({ status: v === 'ACTIVE' ? '' : v })}
              options={[
                { value: 'ACTIVE', label: '在库' },
                { value: 'EXITED', label: '已退出' },
                { value: 'ALL', label: '全部' },
              ]}
            />
          </Form.Item>
          <Form.Item label="姓名或单位">
            <UrlSearch value={q} onSearch={(v) => url.set({ q: v })} width={200} placeholder="输入后回车" />
          </Form.Item>
        </Form>
        <QueryView query={pool}>
          {(data) => {
            const rows = data.experts.filter(
              (e) => !q || e.name.includes(q) || (e.institution ?? '').includes(q),
            );
            return (
              <Table
                data-testid="experts-table"
                rowKey="id"
                dataSource={rows}
                scroll={{ x: 1000 }}
                locale={{ emptyText: '专家库中没有符合条件的成员' }}
                pagination={urlPagination(url, 'page', 20, '位')}
                columns={[
                  { title: '姓名/机构', dataIndex: 'name', width: 160 },
                  {
                    title: '类型',
                    dataIndex: 'kind',
                    width: 110,
                    render: (k: string) => EXPERT_KIND_LABELS[k] ?? k,
                  },
                  { title: '领域', dataIndex: 'field', width: 90 },
                  {
                    title: '单位 / 职称',
                    render: (_, e) => [e.institution, e.title].filter(Boolean).join(' · ') || '—',
                  },
                  {
                    title: '当前聘期',
                    width: 240,
                    render: (_, e) => {
                      const t = e.term ?? e.terms.at(-1);
                      return t ? `第 ${t.number} 届：${formatDay(t.startsOn)}至${formatDay(t.endsOn)}` : '—';
                    },
                  },
                  {
                    title: '状态',
                    width: 200,
                    render: (_, e) =>
                      e.status === 'EXITED' ? (
                        <span>
                          <Tag>已退出</Tag>
                          <Typography.Text type="secondary">
                            {e.exit?.reason}
                            {e.exit?.at ? `（${formatDateTime(e.exit.at)}）` : ''}
                          </Typography.Text>
                        </span>
                      ) : e.invitable ? (
                        <Tag color="green">可邀请</Tag>
                      ) : (
                        <Tag color="orange">不在聘期</Tag>
                      ),
                  },
                  ...(canManage
                    ? [
                        {
                          title: '操作',
                          width: 150,
                          render: (_: unknown, e: ExpertView) =>
                            e.status === 'ACTIVE' ? (
                              <Space>
                                <RenewExpert expert={e} />
                                <ExitExpert expert={e} />
                              </Space>
                            ) : (
                              '—'
                            ),
                        },
                      ]
                    : []),
                ]}
              />
            );
          }}
        </QueryView>
      </Card>
    </>
  );
}
