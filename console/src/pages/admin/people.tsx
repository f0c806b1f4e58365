/**
 * 人员: the people directory — 包联领导 and unit heads (负责人), whom escalations reach on their own channels (e-mail,
 * signed webhooks). An organisation has at most one head. Webhook secrets are written, never read back: a webhook
 * saved without its secret keeps the one stored for the same URL.
 */
import { useState } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { App, Button, Card, Drawer, Form, Grid, Input, Select, Space, Table, Tag, Typography } from 'antd';
import { MinusCircleOutlined, PlusOutlined } from '@ant-design/icons';
import { ApiProblem, get, put } from '../../api';
import {
  PageTitle,
  ProblemAlert,
  QueryView,
  showFieldErrors,
  useOrgName,
  useOrgs,
  UrlSearch,
} from '../../components/common';
import { formatDateTime } from '../../format';
import { textRules, urlPagination, useUrlState } from '../leader/shared';

interface Person {
  id: string;
  name: string;
  post: string;
  org: string;
  headOf: string[];
  channels?: { emails: string[]; webhooks: { url: string }[] };
  updatedAt?: string;
}

interface PersonValues {
  id: string;
  name: string;
  post: string;
  org: string;
  headOf: string[];
  channels: { emails: string[]; webhooks: { url: string; secret?: string }[] };
}

const PERSON_ID = /^[a-z0-9][a-z0-9-]*$/;
const ORG_ID = /^[a-z][a-z0-9-]*$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function isHttpUrl(v: string): boolean {
  try {
    const u = new URL(v);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

/** Create (person null) or replace one person of the directory. */
function PersonForm({
  person,
  people,
  onClose,
}: {
  person: Person | null;
  people: Person[];
  onClose: () => void;
}) {
  const [form] = Form.useForm<PersonValues>();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const { message } = App.useApp();
  const queryClient = useQueryClient();
  const orgs = useOrgs();
  const orgOptions = (orgs.data ?? []).map((o) => ({ value: o.id, label: `${o.name}（${o.id}）` }));
  const storedUrls = person?.channels?.webhooks.map((w) => w.url) ?? [];
  return (
    <Form
      form={form}
      layout="vertical"
      aria-label={person ? `编辑 ${person.name}` : '新增人员'}
      data-testid="person-form"
      initialValues={{
        id: person?.id ?? '',
        name: person?.name ?? '',
        post: person?.post ?? '',
        org: person?.org,
        headOf: person?.headOf ?? [],
        channels: {
          emails: person?.channels?.emails ?? [],
          webhooks: (person?.channels?.webhooks ?? []).map((w) => ({ url: w.url })),
        },
      }}
      onFinish={(v) => {
        setBusy(true);
        setError(null);
        const id = (person?.id ?? v.id).trim();
        put<Person>(`/people/${encodeURIComponent(id)}`, {
          name: v.name.trim(),
          post: v.post.trim(),
          org: v.org,
          headOf: v.headOf ?? [],
          channels: {
            emails: (v.channels?.emails ?? []).map((e) => e.trim()),
            webhooks: (v.channels?.webhooks ?? []).map((w) => ({
              url: w.url.trim(),
              ...(w.secret ? { secret: w.secret } : {}),
            })),
          },
        })
          .then(async (p) => {
            await queryClient.invalidateQueries({ queryKey: ['people'] });
            message.success(`已保存：${p.name}`);
            onClose();
          })
          .catch((err: unknown) => setError(showFieldErrors(form, err)))
          .finally(() => setBusy(false));
      }}
    >
      {error !== null && <ProblemAlert error={error} />}
      <Form.Item
        label="人员编号"
        name="id"
        extra={person ? '编号不可修改' : '小写字母、数字和连字符，如 vm-zhang'}
        rules={
          person
            ? []
            : [
                { required: true, whitespace: true, message: '请填写人员编号' },
                { max: 64, message: '不超过 64 个字符' },
                { pattern: PERSON_ID, message: '只能用小写字母、数字和连字符，且以字母或数字开头' },
                {
                  validator: (_, v: string | undefined) =>
                    v && people.some((p) => p.id === v.trim())
                      ? Promise.reject(new Error('该编号已存在，请在列表中编辑'))
                      : Promise.resolve(),
                },
              ]
        }
      >
        <Input disabled={Boolean(person)} maxLength={64} autoComplete="off" />
      </Form.Item>
      <Space style={{ display: 'flex' }} align="start" wrap>
        <Form.Item label="姓名" name="name" rules={textRules('姓名', 50)} style={{ minWidth: 200 }}>
          <Input maxLength={50} />
        </Form.Item>
        <Form.Item label="职务" name="post" rules={textRules('职务', 50)} style={{ minWidth: 200 }}>
          <Input maxLength={50} placeholder="如 副市长、局长" />
        </Form.Item>
      </Space>
      <Form.Item label="所属单位" name="org" rules={[{ required: true, message: '请选择所属单位' }]}>
        <Select options={orgOptions} showSearch={{ optionFilterProp: 'label' }} loading={orgs.isPending} />
      </Form.Item>
      <Form.Item
        label="担任负责人的单位"
        name="headOf"
        extra="每个单位只能有一位负责人；一级督办发送给责任单位负责人。"
        rules={[{ type: 'array', max: 20, message: '最多 20 个单位' }]}
      >
        <Select mode="multiple" allowClear options={orgOptions} showSearch={{ optionFilterProp: 'label' }} />
      </Form.Item>
      <Typography.Text strong>电子邮箱</Typography.Text>
      <Form.List
        name={['channels', 'emails']}
        rules={[
          {
            validator: (_, v: string[] | undefined) =>
              (v?.length ?? 0) > 10 ? Promise.reject(new Error('最多 10 个邮箱')) : Promise.resolve(),
          },
        ]}
      >
        {(fields, { add, remove }, { errors }) => (
          <div style={{ margin: '8px 0 16px' }}>
            {fields.map((f, i) => (
              <Space key={f.key} align="baseline" style={{ display: 'flex' }}>
                <Form.Item
                  name={f.name}
                  label={`邮箱 ${i + 1}`}
                  rules={[
                    { required: true, whitespace: true, message: '请填写邮箱或删除此行' },
                    { pattern: EMAIL, message: '邮箱格式不正确' },
                    { max: 200, message: '不超过 200 个字符' },
                  ]}
                  style={{ minWidth: 280 }}
                >
                  <Input type="email" autoComplete="off" />
                </Form.Item>
                <Button
                  type="text"
                  icon={<MinusCircleOutlined />}
                  onClick={() => remove(f.name)}
                  aria-label={`删除邮箱 ${i + 1}`}
                />
              </Space>
            ))}
            <Form.ErrorList errors={errors} />
            <Button
              type="dashed"
              onClick={() => add('')}
              icon={<PlusOutlined />}
              disabled={fields.length >= 10}
            >
              添加邮箱
            </Button>
          </div>
        )}
      </Form.List>
      <Typography.Text strong>Webhook（签名推送）</Typography.Text>
      <Typography.Paragraph type="secondary" style={{ marginBottom: 8 }}>
        已保存的地址只显示到路径（不含查询参数）；不填密钥则沿用该地址已保存的密钥，新地址须填写 16–200
        位签名密钥。
      </Typography.Paragraph>
      <Form.List name={['channels', 'webhooks']}>
        {(fields, { add, remove }) => (
          <div style={{ marginBottom: 16 }}>
            {fields.map((f, i) => (
              <Card
                key={f.key}
                size="small"
                style={{ marginBottom: 8 }}
                title={`Webhook ${i + 1}`}
                extra={
                  <Button
                    type="text"
                    icon={<MinusCircleOutlined />}
                    onClick={() => remove(f.name)}
                    aria-label={`删除 Webhook ${i + 1}`}
                  />
                }
              >
                <Form.Item
                  name={[f.name, 'url']}
                  label="地址"
                  rules={[
                    { required: true, whitespace: true, message: '请填写地址' },
                    { max: 2000, message: '不超过 2000 个字符' },
                    {
                      validator: (_, v: string | undefined) =>
                        !v || isHttpUrl(v.trim())
                          ? Promise.resolve()
                          : Promise.reject(new Error('须为 http(s) 地址')),
                    },
                  ]}
                >
                  <Input autoComplete="off" placeholder="https://…" />
                </Form.Item>
                <Form.Item
                  name={[f.name, 'secret']}
                  label="签名密钥"
                  dependencies={[['channels', 'webhooks', f.name, 'url']]}
                  rules={[
                    ({ getFieldValue }) => ({
                      validator: (_, v: string | undefined) => {
                        const url = String(
                          getFieldValue(['channels', 'webhooks', f.name, 'url']) ?? '',
                        ).trim();
                        if (!v) {
                          return !url || storedUrls.includes(url)
                            ? Promise.resolve()
                            : Promise.reject(new Error('新地址须填写签名密钥'));
                        }
                        return v.length < 16 || v.length > 200
                          ? Promise.reject(new Error('密钥为 16–200 个字符'))
                          : Promise.resolve();
                      },
                    }),
                  ]}
                >
                  <Input.Password autoComplete="new-password" placeholder="留空则沿用已保存的密钥" />
                </Form.Item>
              </Card>
            ))}
            <Button
              type="dashed"
              onClick={() => add({ url: '' })}
              icon={<PlusOutlined />}
              disabled={fields.length >= 5}
            >
              添加 Webhook
            </Button>
          </div>
        )}
      </Form.List>
      <Space>
        <Button type="primary" htmlType="submit" loading={busy}>
          保存
        </Button>
        <Button onClick={onClose}>取消</Button>
      </Space>
    </Form>
  );
}

export function PeoplePage() {
  const url = useUrlState();
  const orgName = useOrgName();
  const orgs = useOrgs();
  const screens = Grid.useBreakpoint();
  const org = url.value('org');
  const q = url.value('q');
  const editing = url.value('edit');
  const people = useQuery({
    queryKey: ['people', org],
    queryFn: () => get<{ people: Person[] }>('/people', { org: ORG_ID.test(org) ? org : undefined }),
  });
  const all = useQuery({
    queryKey: ['people', ''],
    queryFn: () => get<{ people: Person[] }>('/people'),
    enabled: Boolean(editing),
  });
  const person = editing && editing !== 'new' ? all.data?.people.find((p) => p.id === editing) : undefined;
  const close = () => url.set({ edit: '', page: url.page() === 1 ? '' : url.page() });
  return (
    <>
      <PageTitle
        extra={
          <Button
            type="primary"
            icon={<PlusOutlined />}
            onClick={() => url.set({ edit: 'new', page: url.page() })}
          >
            新增人员
          </Button>
        }
      >
        人员
      </PageTitle>
      <Card>
        <Form layout="inline" aria-label="筛选" style={{ marginBottom: 16, rowGap: 8 }}>
          <Form.Item label="单位">
            <Select
              style={{ width: 240 }}
              value={org}
              onChange={(v) => url.set({ org: v })}
              showSearch={{ optionFilterProp: 'label' }}
              options={[
                { value: '', label: '全部' },
                ...(orgs.data ?? []).map((o) => ({ value: o.id, label: o.name })),
              ]}
            />
          </Form.Item>
          <Form.Item label="姓名或职务">
            <UrlSearch value={q} onSearch={(v) => url.set({ q: v })} width={200} placeholder="输入后回车" />
          </Form.Item>
        </Form>
        <QueryView query={people}>
          {(data) => {
            const rows = data.people.filter(
              (p) => !q || p.name.includes(q) || p.post.includes(q) || p.id.includes(q),
            );
            return (
              <Table
                data-testid="people-table"
                rowKey="id"
                dataSource={rows}
                scroll={{ x: 1200 }}
                locale={{ emptyText: '没有符合条件的人员' }}
                pagination={urlPagination(url, 'page', 20, '人')}
                columns={[
                  { title: '姓名', dataIndex: 'name', width: 110 },
                  { title: '职务', dataIndex: 'post', width: 120 },
                  { title: '所属单位', dataIndex: 'org', width: 180, render: (o: string) => orgName(o) },
                  {
                    title: '负责人',
                    dataIndex: 'headOf',
                    width: 180,
                    render: (h: string[]) =>
                      h.length ? (
                        h.map((o) => <Tag key={o}>{orgName(o)}</Tag>)
                      ) : (
                        <span style={{ color: '#999' }}>—</span>
                      ),
                  },
                  {
                    title: '通知渠道',
                    width: 220,
                    render: (_, p) => {
                      const emails = p.channels?.emails ?? [];
                      const hooks = p.channels?.webhooks ?? [];
                      if (!emails.length && !hooks.length) return <Tag color="orange">未设置</Tag>;
                      return (
                        <span>
                          {emails.map((e) => (
                            <div key={e}>{e}</div>
                          ))}
                          {hooks.length > 0 && <div>Webhook {hooks.length} 个</div>}
                        </span>
                      );
                    },
                  },
                  { title: '编号', dataIndex: 'id', width: 130 },
                  {
                    title: '更新时间',
                    dataIndex: 'updatedAt',
                    width: 170,
                    render: (d?: string) => formatDateTime(d),
                  },
                  {
                    title: '操作',
                    width: 80,
                    render: (_, p) => (
                      <Button
                        size="small"
                        onClick={() => url.set({ edit: p.id, page: url.page() })}
                        aria-label={`编辑 ${p.name}`}
                      >
                        编辑
                      </Button>
                    ),
                  },
                ]}
              />
            );
          }}
        </QueryView>
      </Card>
      <Drawer
        open={Boolean(editing)}
        onClose={close}
        size={screens.md ? 640 : '100%'}
        title={editing === 'new' ? '新增人员' : `编辑人员：${person?.name ?? editing}`}
        destroyOnHidden
      >
        {editing === 'new' ? (
          all.isPending ? null : (
            <PersonForm person={null} people={all.data?.people ?? []} onClose={close} />
          )
        ) : all.isError ? (
          <ProblemAlert error={all.error} onRetry={() => void all.refetch()} />
        ) : all.isPending ? null : person ? (
          <PersonForm key={person.id} person={person} people={all.data?.people ?? []} onClose={close} />
        ) : (
          <ProblemAlert error={new ApiProblem(404, '未找到', `人员名录中没有 ${editing}`)} />
        )}
      </Drawer>
    </>
  );
}
