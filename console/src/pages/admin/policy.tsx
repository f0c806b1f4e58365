/**
 * 策略: the policy in force, rule by rule — every time limit, threshold, weight and report formula with where it
 * comes from: the seed document (文件依据), a law (法律法规, named), or our default (本系统默认), so that a reader can
 * tell them apart. Read-only: the policy is changed by a new policy version, not here.
 */
import { Card, Descriptions, Form, Select, Space, Statistic, Table, Tag, Typography } from 'antd';
import { PageTitle, QueryView, UrlSearch } from '../../components/common';
import {
  RULE_SOURCE_LABELS,
  RuleSourceTag,
  urlPagination,
  usePolicy,
  useUrlState,
  type PolicyDoc,
  type PolicyRule,
} from '../leader/shared';

const SECTIONS: Record<string, string> = {
  review: '评审',
  reserve: '储备库',
  preConstruction: '前期库',
  startGate: '开工条件核查',
  implementation: '实施库',
  revisions: '调整申请',
  experts: '专家库',
  reporting: '考核与通报',
  blockers: '堵点疏解',
  supervision: '督办调度',
  time: '时限与督办',
  formulas: '计算口径',
};

const FIXED: Record<string, string> = {
  'review.tier1.deadline': '部门初审期限',
  'review.tier2.deadline': '专业评审期限',
  'review.tier3.deadline': '综合评审期限',
  'review.planInclusionDeadline': '纳入规划或年度计划期限',
  'reserve.staleAfterMonths': '储备项目无审批进展视为停滞（月）',
  'startGate.deadline': '开工关口期限',
  'startGate.checkDeadline': '开工条件核查期限',
  'implementation.completionDeadline': '竣工期限（自开工起）',
  'implementation.monthlyReportDueDay': '月报报送日（次月几日）',
  'revisions.changeRequestDeadline': '调整申请办理期限',
  'experts.termYears': '专家聘期（年）',
  'reporting.weights.conversion': '考核权重：项目转化率',
  'reporting.weights.fundsSecured': '考核权重：资金争取额度',
  'reporting.weights.paymentRate': '考核权重：资金支付率',
  'reporting.weights.investmentCompletion': '考核权重：投资完成率',
  'reporting.redBlackList.topN': '红榜名额',
  'reporting.redBlackList.bottomN': '黑榜名额',
  'reporting.targets.planningPool.minProjects': '谋划项目数量目标（个）',
  'reporting.targets.planningPool.minInvestmentYi': '谋划项目总投资目标（亿元）',
  'reporting.targets.planningPool.scope': '谋划项目统计范围',
  'reporting.targets.threeBatches.signToStartPercent': '签约开工率目标（%）',
  'reporting.targets.threeBatches.startToCommissionPercent': '开工投产率目标（%）',
  'reporting.targets.threeBatches.commissionToOutputPercent': '投产达效率目标（%）',
  'blockers.deadline.COUNTY': '县级堵点办结期限',
  'blockers.deadline.CITY': '市级堵点办结期限',
  'blockers.deadline.PROVINCE': '省级堵点办结期限',
  'supervision.dispatch.day': '月度调度会召开日',
  'supervision.dispatch.hour': '月度调度报告生成时刻（时）',
  'supervision.adjustment.dayOfMonth': '季度调整运行日（季后月几日）',
  'supervision.adjustment.hour': '季度调整运行时刻（时）',
  'supervision.bulletin.dayOfMonth': '季度通报运行日（季后月几日）',
  'supervision.bulletin.hour': '季度通报运行时刻（时）',
  'supervision.assessment.month': '年度考核运行月份',
  'supervision.assessment.dayOfMonth': '年度考核运行日',
  'supervision.assessment.hour': '年度考核运行时刻（时）',
  'time.greenChannelPercent': '绿色通道内部时限比例（%）',
  'time.remindAtHour': '提醒发送时刻（时）',
  'time.extensions.maxPerTask': '每个事项最多延期次数',
  'time.extensions.maxWorkingDays': '每次延期最多天数',
};

const FORMULAS: Record<string, string> = {
  amounts: '金额',
  rates: '比率',
  libraries: '四库口径',
  conversion: '项目转化率',
  fundsSecured: '资金争取额度',
  paymentRate: '资金支付率',
  investmentCompletion: '投资完成率',
  timeElapsed: '序时进度',
  aheadBehind: '超前或滞后',
  metricScore: '单项得分',
  composite: '综合得分',
  redList: '红榜',
  blackList: '黑榜',
  planningPool: '谋划项目储备',
  signToStart: '签约开工率',
  startToCommission: '开工投产率',
  commissionToOutput: '投产达效率',
  overdue: '逾期',
};

const VALUE_WORDS: Record<string, string> = {
  LAST_WORKING_DAY: '月末最后一个工作日',
  FOUR_LIBRARIES: '四库全部项目',
};

/** A rule's name in words, from the policy itself where it names the matter or step. */
function ruleLabel(policy: PolicyDoc, path: string): string {
  if (FIXED[path]) return FIXED[path];
  const seg = path.split('.');
  if (seg[0] === 'formulas') return `计算口径：${FORMULAS[seg[1] ?? ''] ?? seg[1]}`;
  if (
    (seg[0] === 'reserve' && seg[1] === 'matters') ||
    (seg[0] === 'preConstruction' && seg[1] === 'steps')
  ) {
    const list = (policy[seg[0]] as Record<string, { key: string; name?: string }[]> | undefined)?.[seg[1]];
    const name = list?.find((m) => m.key === seg[2])?.name ?? seg[2];
    return seg[3] === 'deadline' ? `${name}：办理期限` : `${name}：适用条件`;
  }
  if (seg[0] === 'time' && seg[1] === 'reminders') return `到期前提醒（第 ${Number(seg[2]) + 1} 次）`;
  if (seg[0] === 'time' && seg[1] === 'escalation') {
    const level = Number(seg[2]);
    const esc = (policy.time as { escalation?: { level: number; label?: string }[] } | undefined)?.escalation;
    const label = esc?.find((e) => e.level === level)?.label;
    return `${['', '一', '二', '三', '四'][level] ?? level}级督办：逾期后${label ? `（${label}）` : ''}`;
  }
  return path;
}

/** A value in words: { workingDays: 20 } → 20 个工作日. */
export function ruleValue(path: string, value: unknown): string {
  if (typeof value === 'number') {
    if (path.endsWith('.gte')) return `≥ ${value}`;
    if (path.endsWith('.lt')) return `< ${value}`;
    return String(value);
  }
  if (typeof value === 'string') return VALUE_WORDS[value] ?? value;
  if (typeof value === 'boolean') return value ? '是' : '否';
  if (value && typeof value === 'object') {
    const v = value as Record<string, unknown>;
    if (typeof v.workingDays === 'number') return v.workingDays === 0 ? '当天' : `${v.workingDays} 个工作日`;
    if (typeof v.calendarDays === 'number') return `${v.calendarDays} 个自然日`;
    if (typeof v.seconds === 'number') return `${v.seconds} 秒`;
    if (v.nextMonthlyMeeting) return '下次月度联席会议';
  }
  return JSON.stringify(value);
}

export function PolicyPage() {
  const url = useUrlState();
  const policy = usePolicy();
  const source = url.value('source');
  const section = url.value('section');
  const q = url.value('q');
  return (
    <>
      <PageTitle>策略</PageTitle>
      <QueryView query={policy}>
        {(p) => {
          const counts = p.rules.reduce<Record<string, number>>(
            (n, r) => ({ ...n, [r.source]: (n[r.source] ?? 0) + 1 }),
            {},
          );
          const rows = p.rules
            .map((r) => ({ ...r, label: ruleLabel(p, r.path), text: ruleValue(r.path, r.value) }))
            .filter((r) => !source || r.source === source)
            .filter((r) => !section || r.path.split('.')[0] === section)
            .filter(
              (r) =>
                !q ||
                [r.path, r.label, r.text, r.law ?? '', r.note ?? ''].some((s) =>
                  s.toLowerCase().includes(q.toLowerCase()),
                ),
            );
          const sections = [...new Set(p.rules.map((r) => r.path.split('.')[0]!))];
          return (
            <Card>
              <Descriptions size="small" column={{ xs: 1, md: 2 }} style={{ marginBottom: 12 }}>
                <Descriptions.Item label="策略">{p.title ?? '—'}</Descriptions.Item>
                <Descriptions.Item label="版本">
                  <Typography.Text code>{p.version}</Typography.Text>
                </Descriptions.Item>
              </Descriptions>
              <Space size="large" wrap style={{ marginBottom: 16 }} data-testid="policy-source-counts">
                <Statistic title="规则总数" value={p.rules.length} />
                {(['seed', 'law', 'default', 'unmarked'] as const)
                  .filter((s) => counts[s])
                  .map((s) => (
                    <Statistic key={s} title={RULE_SOURCE_LABELS[s]} value={counts[s]} />
                  ))}
              </Space>
              <Typography.Paragraph type="secondary">
                “文件依据”出自《临汾市2025年度重大项目建设年活动实施方案》（临政办发〔2025〕14号）及其附件；“法律法规”注明条文；“本系统默认”是文件未作规定、由本系统设定的取值，可在新版本策略中调整。
              </Typography.Paragraph>
              <Form layout="inline" aria-label="筛选" style={{ marginBottom: 16, rowGap: 8 }}>
                <Form.Item label="来源">
                  <Select
                    style={{ width: 140 }}
                    value={source}
                    onChange={(v) => url.set({ source: v })}
                    options={[
                      { value: '', label: '全部' },
                      ...Object.entries(RULE_SOURCE_LABELS).map(([value, label]) => ({ value, label })),
                    ]}
                  />
                </Form.Item>
                <Form.Item label="类别">
                  <Select
                    style={{ width: 150 }}
                    value={section}
                    onChange={(v) => url.set({ section: v })}
                    options={[
                      { value: '', label: '全部' },
                      ...sections.map((s) => ({ value: s, label: SECTIONS[s] ?? s })),
                    ]}
                  />
                </Form.Item>
                <Form.Item label="搜索">
                  <UrlSearch
                    value={q}
                    onSearch={(v) => url.set({ q: v })}
                    width={220}
                    placeholder="规则、取值或依据"
                  />
                </Form.Item>
              </Form>
              <Table<PolicyRule & { label: string; text: string }>
                data-testid="policy-rules-table"
                rowKey="path"
                size="small"
                dataSource={rows}
                scroll={{ x: 1000 }}
                locale={{ emptyText: '没有符合条件的规则' }}
                pagination={urlPagination(url, 'page', 20, '条规则')}
                columns={[
                  {
                    title: '规则',
                    dataIndex: 'label',
                    width: 260,
                    render: (label: string, r) => (
                      <span>
                        {label}
                        <br />
                        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                          {SECTIONS[r.path.split('.')[0]!] ?? ''} · <code>{r.path}</code>
                        </Typography.Text>
                      </span>
                    ),
                  },
                  {
                    title: '取值',
                    dataIndex: 'text',
                    width: 220,
                    render: (t: string, r) =>
                      r.path.startsWith('formulas.') ? (
                        <Typography.Paragraph style={{ margin: 0 }}>{t}</Typography.Paragraph>
                      ) : (
                        <strong>{t}</strong>
                      ),
                  },
                  {
                    title: '来源',
                    dataIndex: 'source',
                    width: 110,
                    render: (s: PolicyRule['source']) => <RuleSourceTag source={s} />,
                  },
                  {
                    title: '依据与说明',
                    render: (_, r) => (
                      <span>
                        {r.law && (
                          <div>
                            <Tag color="purple">法条</Tag>
                            {r.law}
                          </div>
                        )}
                        {r.note && <div>{r.note}</div>}
                        {r.sourcePath && (
                          <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                            来源标注于 <code>{r.sourcePath}</code>
                          </Typography.Text>
                        )}
                        {!r.law && !r.note && !r.sourcePath && '—'}
                      </span>
                    ),
                  },
                ]}
              />
            </Card>
          );
        }}
      </QueryView>
    </>
  );
}
