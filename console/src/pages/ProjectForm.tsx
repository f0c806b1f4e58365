/**
 * 项目申报: create a project (a DRAFT, submitted now or later), or edit one in DRAFT — also after a RETURN,
 * with the reviewers' opinions beside the form. Validates as the API does; the API's field errors appear
 * beside the fields they name, and a refused request changes nothing.
 */
import { useMemo, useState } from 'react';
import { useNavigate, useParams } from 'react-router-dom';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import {
  Alert,
  App,
  Button,
  Card,
  Checkbox,
  Col,
  Form,
  Input,
  InputNumber,
  Radio,
  Row,
  Select,
  Space,
  Timeline,
} from 'antd';
import { get, patch, post } from '../api';
import {
  PageTitle,
  ProblemAlert,
  QueryView,
  showFieldErrors,
  useOrgName,
  useOrgs,
  wanRule,
} from '../components/common';
import { formatDateTime, textOf, wanToYuan, yuanToWanText } from '../format';
import type { ProjectView, TrailEvent } from '../types';

export const SPECIAL_ACTIVITIES: Record<number, string> = {
  1: '两重两新',
  2: '现代产业',
  3: '城市双品质',
  4: '社会投资',
  5: '园区建设',
  6: '民生',
};
export const INVESTOR_TYPES: Record<string, string> = {
  GOVERNMENT: '政府投资',
  SOE: '国有企业投资',
  PRIVATE: '民间投资',
  FOREIGN: '外商投资',
};
export const APPROVAL_REGIMES: Record<string, string> = {
  APPROVAL: '审批',
  VERIFICATION: '核准',
  FILING: '备案',
};
export const INDUSTRIES: Record<string, string> = {
  transport: '交通',
  highway: '公路',
  water: '水利',
  energy: '能源',
  housing: '住建',
  urban: '城市管理',
  agriculture: '农业农村',
  industry: '工业',
  commerce: '商贸',
  tourism: '文化旅游',
  health: '卫生健康',
  education: '教育',
  digital: '数字经济',
  other: '其他',
};
export const FLAG_LABELS: Record<string, string> = {
  provincialKey: '省级重点',
  cityKey: '市级重点',
  major: '重大项目',
  emergency: '应急项目',
  governmentInvested: '政府投资',
  privatePromotion: '民间投资推介',
};
// 市级重点 and 省级重点 are outcomes of the reviews, not declared by the owner.
const DECLARED_FLAGS = ['major', 'emergency', 'governmentInvested', 'privatePromotion'] as const;

interface FormValues {
  name: string;
  county: string;
  specialActivity: number;
  portfolio: string;
  industry: string;
  responsibleDept: string;
  assignedLeader?: string;
  ownerName: string;
  ownerCreditCode?: string;
  investorType: string;
  approvalRegime: string;
  flags: string[];
  landInvolved: boolean;
  annualEnergyUseTce: number;
  totalInvestmentWan: string;
  annualPlanWan: string;
  contactPerson?: string;
  contactPhone?: string;
  description?: string;
  reason?: string;
}

/** Form field for each API body path (amounts are typed in 万元 and sent in 元). */
const FIELD_OF_PATH: Record<string, string> = {
  totalInvestmentYuan: 'totalInvestmentWan',
  annualPlanYuan: 'annualPlanWan',
};

function bodyOf(v: FormValues, editing: boolean): Record<string, unknown> {
  const flags = Object.fromEntries(Object.keys(FLAG_LABELS).map((f) => [f, v.flags.includes(f)]));
  const optional = (x: string | undefined) => (x && x.trim() ? x.trim() : editing ? null : undefined);
  return {
    name: v.name,
    county: v.county,
    specialActivity: v.specialActivity,
    portfolio: v.portfolio,
    industry: v.industry,
    responsibleDept: v.responsibleDept,
    assignedLeader: optional(v.assignedLeader),
    ownerName: v.ownerName,
    ownerCreditCode: optional(v.ownerCreditCode),
    investorType: v.investorType,
    approvalRegime: v.approvalRegime,
    flags,
    landInvolved: v.landInvolved,
    annualEnergyUseTce: v.annualEnergyUseTce,
    // A figure that is not a number goes as typed, so the API names the field.
    totalInvestmentYuan: wanToYuan(v.totalInvestmentWan) ?? v.totalInvestmentWan,
    annualPlanYuan: wanToYuan(v.annualPlanWan) ?? v.annualPlanWan,
    contactPerson: optional(v.contactPerson),
    contactPhone: optional(v.contactPhone),
    description: optional(v.description),
    ...(editing && v.reason?.trim() ? { reason: v.reason.trim() } : {}),
  };
}

/** The latest round's RETURN opinions, for the owner editing after it. */
export function returnOpinions(events: TrailEvent[]): TrailEvent[] {
  const lastReturn = [...events].reverse().find((e) => e.type === 'RETURNED');
  if (!lastReturn) return [];
  const round = events.filter((e) => e.type === 'REVIEW_DECIDED' && e.seq < lastReturn.seq);
  const since = [...events].reverse().find((e) => e.type === 'SUBMITTED' && e.seq < lastReturn.seq)?.seq ?? 0;
  return round.filter((e) => e.seq > since);
}

function ProjectFormBody({ project, events }: { project?: ProjectView; events: TrailEvent[] }) {
  const [form] = Form.useForm<FormValues>();
  const { message } = App.useApp();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const orgs = useOrgs();
  const orgName = useOrgName();
  const people = useQuery({
    queryKey: ['people'],
    queryFn: () => get<{ people: { id: string; name: string; post?: string }[] }>('/people'),
  });
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState<'save' | 'submit' | null>(null);
  const editing = Boolean(project);
  const opinions = useMemo(() => returnOpinions(events), [events]);
  const orgOptions = (kind: string) =>
    (orgs.data ?? []).filter((o) => o.kind === kind).map((o) => ({ value: o.id, label: o.name }));

  const d = project?.details;
  const initial: Partial<FormValues> = d
    ? {
        name: d.name,
        county: d.county,
        specialActivity: d.specialActivity,
        portfolio: d.portfolio,
        industry: d.industry,
        responsibleDept: d.responsibleDept,
        assignedLeader: d.assignedLeader,
        ownerName: d.ownerName,
        ownerCreditCode: d.ownerCreditCode as string | undefined,
        investorType: d.investorType,
        approvalRegime: d.approvalRegime,
        flags: Object.entries(d.flags ?? {})
          .filter(([, on]) => on)
          .map(([f]) => f),
        landInvolved: d.landInvolved,
        annualEnergyUseTce: d.annualEnergyUseTce,
        totalInvestmentWan: yuanToWanText(d.totalInvestmentYuan),
        annualPlanWan: yuanToWanText(d.annualPlanYuan),
        contactPerson: d.contactPerson as string | undefined,
        contactPhone: d.contactPhone as string | undefined,
        description: d.description as string | undefined,
      }
    : {
        flags: [],
        landInvolved: false,
        annualEnergyUseTce: 0,
        investorType: 'GOVERNMENT',
        approvalRegime: 'APPROVAL',
      };

  const save = async (values: FormValues, andSubmit: boolean) => {
    setBusy(andSubmit ? 'submit' : 'save');
    setError(null);
    try {
      let projectId = project?.projectId;
      if (project) {
        const version = (project.state.detailsVersion as number | undefined) ?? 1;
        await patch(`/projects/${project.projectId}`, bodyOf(values, true), { 'if-match': `"v${version}"` });
      } else {
        const created = await post<{ projectId: string }>('/projects', bodyOf(values, false));
        projectId = created.projectId;
      }
      if (andSubmit) await post(`/projects/${projectId}/submit`);
      await queryClient.invalidateQueries({ queryKey: ['project', projectId] });
      await queryClient.invalidateQueries({ queryKey: ['projects'] });
      message.success(andSubmit ? '已提交部门初审' : '已保存');
      void navigate(`/projects/${projectId}`);
    } catch (err) {
      setError(showFieldErrors(form, err, (path) => [FIELD_OF_PATH[path] ?? path.split('.')[0]!]));
    } finally {
      setBusy(null);
    }
  };

  const formCard = (
    <Card>
      {error !== null && (
        <div style={{ marginBottom: 16 }}>
          <ProblemAlert error={error} />
        </div>
      )}
      <Form<FormValues>
        form={form}
        layout="vertical"
        initialValues={initial}
        onFinish={(v) => void save(v, false)}
        scrollToFirstError
        aria-label="项目信息"
      >
        <Row gutter={16}>
          <Col xs={24} md={16}>
            <Form.Item
              label="项目名称"
              name="name"
              rules={[{ required: true, min: 2, max: 200, message: '2–200 个字' }]}
            >
              <Input />
            </Form.Item>
          </Col>
          <Col xs={24} md={8}>
            <Form.Item label="县（市、区）" name="county" rules={[{ required: true, message: '请选择' }]}>
              <Select options={orgOptions('COUNTY')} showSearch optionFilterProp="label" />
            </Form.Item>
          </Col>
          <Col xs={24} md={8}>
            <Form.Item
              label="专项活动"
              name="specialActivity"
              rules={[{ required: true, message: '请选择' }]}
            >
              <Select
                options={Object.entries(SPECIAL_ACTIVITIES).map(([v, l]) => ({
                  value: Number(v),
                  label: `${v}. ${l}`,
                }))}
              />
            </Form.Item>
          </Col>
          <Col xs={24} md={8}>
            <Form.Item label="专项推进组" name="portfolio" rules={[{ required: true, message: '请选择' }]}>
              <Select options={orgOptions('SPECIAL_GROUP')} />
            </Form.Item>
          </Col>
          <Col xs={24} md={8}>
            <Form.Item label="行业" name="industry" rules={[{ required: true, message: '请选择' }]}>
              <Select options={Object.entries(INDUSTRIES).map(([v, l]) => ({ value: v, label: l }))} />
            </Form.Item>
          </Col>
          <Col xs={24} md={8}>
            <Form.Item
              label="行业主管部门（责任单位）"
              name="responsibleDept"
              rules={[{ required: true, message: '请选择' }]}
            >
              <Select options={orgOptions('DEPARTMENT')} showSearch optionFilterProp="label" />
            </Form.Item>
          </Col>
          <Col xs={24} md={8}>
            <Form.Item label="包联领导" name="assignedLeader">
              <Select
                allowClear
                loading={people.isPending}
                options={(people.data?.people ?? []).map((p) => ({
                  value: p.id,
                  label: `${p.name}${p.post ? `（${p.post}）` : ''}`,
                }))}
              />
            </Form.Item>
          </Col>
          <Col xs={24} md={8}>
            <Form.Item
              label="项目单位"
              name="ownerName"
              rules={[{ required: true, min: 2, max: 200, message: '2–200 个字' }]}
            >
              <Input />
            </Form.Item>
          </Col>
          <Col xs={24} md={8}>
            <Form.Item
              label="统一社会信用代码"
              name="ownerCreditCode"
              rules={[{ pattern: /^[0-9A-HJ-NPQRTUWXY]{18}$/, message: '18 位统一社会信用代码' }]}
            >
              <Input maxLength={18} />
            </Form.Item>
          </Col>
          <Col xs={24} md={8}>
            <Form.Item label="投资主体" name="investorType" rules={[{ required: true }]}>
              <Select options={Object.entries(INVESTOR_TYPES).map(([v, l]) => ({ value: v, label: l }))} />
            </Form.Item>
          </Col>
          <Col xs={24} md={8}>
            <Form.Item label="审批方式" name="approvalRegime" rules={[{ required: true }]}>
              <Radio.Group
                options={Object.entries(APPROVAL_REGIMES).map(([v, l]) => ({ value: v, label: l }))}
              />
            </Form.Item>
          </Col>
          <Col xs={24} md={8}>
            <Form.Item label="是否涉及用地" name="landInvolved" rules={[{ required: true }]}>
              <Radio.Group
                options={[
                  { value: true, label: '是' },
                  { value: false, label: '否' },
                ]}
              />
            </Form.Item>
          </Col>
          <Col xs={24} md={8}>
            <Form.Item
              label="总投资（万元）"
              name="totalInvestmentWan"
              rules={[{ required: true, message: '请输入总投资' }, wanRule]}
            >
              <Input inputMode="decimal" suffix="万元" />
            </Form.Item>
          </Col>
          <Col xs={24} md={8}>
            <Form.Item
              label="年度计划投资（万元）"
              name="annualPlanWan"
              rules={[{ required: true, message: '请输入年度计划投资' }, wanRule]}
            >
              <Input inputMode="decimal" suffix="万元" />
            </Form.Item>
          </Col>
          <Col xs={24} md={8}>
            <Form.Item
              label="年综合能耗（吨标准煤）"
              name="annualEnergyUseTce"
              rules={[{ required: true, type: 'integer', min: 0, message: '不小于 0 的整数' }]}
            >
              <InputNumber style={{ width: '100%' }} precision={0} />
            </Form.Item>
          </Col>
          <Col xs={24}>
            <Form.Item label="项目属性" name="flags">
              <Checkbox.Group options={DECLARED_FLAGS.map((f) => ({ value: f, label: FLAG_LABELS[f]! }))} />
            </Form.Item>
          </Col>
          <Col xs={24} md={8}>
            <Form.Item label="联系人" name="contactPerson" rules={[{ max: 50 }]}>
              <Input />
            </Form.Item>
          </Col>
          <Col xs={24} md={8}>
            <Form.Item
              label="联系电话"
              name="contactPhone"
              rules={[{ pattern: /^[0-9+\- ]{5,20}$/, message: '电话号码' }]}
            >
              <Input />
            </Form.Item>
          </Col>
          <Col xs={24}>
            <Form.Item label="建设规模及内容" name="description" rules={[{ max: 2000 }]}>
              <Input.TextArea rows={3} />
            </Form.Item>
          </Col>
          {editing && (
            <Col xs={24}>
              <Form.Item label="修改说明" name="reason" rules={[{ max: 2000 }]}>
                <Input.TextArea rows={2} placeholder="按评审意见修改的内容" />
              </Form.Item>
            </Col>
          )}
        </Row>
        <Space wrap>
          <Button htmlType="submit" loading={busy === 'save'} disabled={busy !== null}>
            {editing ? '保存修改' : '保存草稿'}
          </Button>
          <Button
            type="primary"
            loading={busy === 'submit'}
            disabled={busy !== null}
            onClick={() => {
              form
                .validateFields()
                .then((v) => save(v, true))
                .catch(() => undefined);
            }}
          >
            {editing ? '保存并重新提交' : '保存并提交初审'}
          </Button>
          <Button onClick={() => void navigate(-1)} disabled={busy !== null}>
            取消
          </Button>
        </Space>
      </Form>
    </Card>
  );

  if (!opinions.length) return formCard;
  return (
    <Row gutter={16}>
      <Col xs={24} xl={16}>
        {formCard}
      </Col>
      <Col xs={24} xl={8}>
        <Card title="退回意见" data-testid="return-opinions">
          <Alert
            type="warning"
            showIcon
            message="项目已被退回，请按以下意见修改后重新提交"
            style={{ marginBottom: 12 }}
          />
          <Timeline
            items={opinions.map((e) => ({
              color: e.data.decision === 'RETURN' ? 'red' : 'green',
              children: (
                <div>
                  <div>
                    <strong>{orgName(textOf(e.data.org) || e.actor.org)}</strong> ·{' '}
                    {e.data.decision === 'RETURN'
                      ? '退回修改'
                      : e.data.decision === 'PASS'
                        ? '通过'
                        : textOf(e.data.decision)}
                  </div>
                  {e.data.opinion ? <div>{textOf(e.data.opinion)}</div> : null}
                  <div style={{ color: '#888', fontSize: 12 }}>{formatDateTime(e.at)}</div>
                </div>
              ),
            }))}
          />
        </Card>
      </Col>
    </Row>
  );
}

export default function ProjectFormPage() {
  const { id } = useParams();
  const project = useQuery({
    queryKey: ['project', id],
    queryFn: () => get<ProjectView>(`/projects/${id}`),
    enabled: Boolean(id),
  });
  const events = useQuery({
    queryKey: ['project', id, 'events'],
    queryFn: () => get<{ events: TrailEvent[] }>(`/projects/${id}/events`),
    enabled: Boolean(id),
  });
  if (!id)
    return (
      <>
        <PageTitle>新建项目</PageTitle>
        <ProjectFormBody events={[]} />
      </>
    );
  return (
    <QueryView query={project}>
      {(p) => (
        <>
          <PageTitle>修改项目 · {p.details.name}</PageTitle>
          {p.stage !== 'DRAFT' ? (
            <Alert type="info" showIcon message="项目已过谋划申报阶段，基本信息需通过调整申请变更。" />
          ) : (
            <ProjectFormBody project={p} events={events.data?.events ?? []} />
          )}
        </>
      )}
    </QueryView>
  );
}
