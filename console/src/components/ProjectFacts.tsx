import { Descriptions, Table, Tag } from 'antd';
import { formatDateTime, stageLabel, textOf, wan, DECISION_LABELS } from '../format';
import { useOrgName } from './common';
import {
  APPROVAL_REGIMES,
  FLAG_LABELS,
  INDUSTRIES,
  INVESTOR_TYPES,
  SPECIAL_ACTIVITIES,
} from '../pages/ProjectForm';
import type { ProjectView, TrailEvent } from '../types';

/** A project's declared facts, as a reviewer reads them before deciding. */
export function ProjectFacts({ project }: { project: ProjectView }) {
  const orgName = useOrgName();
  const d = project.details;
  const flags = Object.entries(d.flags ?? {}).filter(([, on]) => on);
  return (
    <Descriptions bordered size="small" column={{ xs: 1, sm: 1, md: 2, lg: 3 }} data-testid="project-facts">
      <Descriptions.Item label="项目名称">{d.name}</Descriptions.Item>
      <Descriptions.Item label="阶段">
        <Tag color="blue">{stageLabel(project.stage)}</Tag>
        {project.library}库
      </Descriptions.Item>
      <Descriptions.Item label="县（市、区）">{orgName(d.county)}</Descriptions.Item>
      <Descriptions.Item label="项目单位">{d.ownerName}</Descriptions.Item>
      <Descriptions.Item label="专项活动">
        {SPECIAL_ACTIVITIES[d.specialActivity] ?? d.specialActivity}
      </Descriptions.Item>
      <Descriptions.Item label="专项推进组">{orgName(d.portfolio)}</Descriptions.Item>
      <Descriptions.Item label="行业">{INDUSTRIES[d.industry] ?? d.industry}</Descriptions.Item>
      <Descriptions.Item label="责任单位">{orgName(d.responsibleDept)}</Descriptions.Item>
      <Descriptions.Item label="投资主体">
        {INVESTOR_TYPES[d.investorType] ?? d.investorType}
      </Descriptions.Item>
      <Descriptions.Item label="审批方式">
        {APPROVAL_REGIMES[d.approvalRegime] ?? d.approvalRegime}
      </Descriptions.Item>
      <Descriptions.Item label="总投资">{wan(d.totalInvestmentYuan)}</Descriptions.Item>
      <Descriptions.Item label="年度计划投资">{wan(d.annualPlanYuan)}</Descriptions.Item>
      <Descriptions.Item label="涉及用地">{d.landInvolved ? '是' : '否'}</Descriptions.Item>
      <Descriptions.Item label="年综合能耗">{d.annualEnergyUseTce} 吨标准煤</Descriptions.Item>
      <Descriptions.Item label="项目属性">
        {flags.length ? flags.map(([f]) => <Tag key={f}>{FLAG_LABELS[f] ?? f}</Tag>) : '—'}
      </Descriptions.Item>
      {typeof d.description === 'string' && (
        <Descriptions.Item label="建设规模及内容" span={3}>
          {d.description}
        </Descriptions.Item>
      )}
    </Descriptions>
  );
}

const REVIEW_EVENTS = ['REVIEW_DECIDED', 'SPECIALIST_REVIEW_DECIDED', 'COMPREHENSIVE_REVIEW_DECIDED'];

/** A decision of any tier in words: tier 1 decides, tier 2 recommends, tier 3 includes in the 重点项目库. */
export function reviewConclusion(e: TrailEvent): { label: string; color: string; opinion: string } {
  const d = e.data;
  if (e.type === 'SPECIALIST_REVIEW_DECIDED') {
    const outcome = textOf(d.outcome);
    const experts = Array.isArray(d.experts) ? (d.experts as { name?: string; opinion?: string }[]) : [];
    return {
      label:
        { RECOMMENDED: '推荐为重点项目', NOT_RECOMMENDED: '不推荐', RETURNED: '退回修改' }[outcome] ??
        outcome,
      color: outcome === 'RETURNED' ? 'orange' : outcome === 'RECOMMENDED' ? 'green' : 'default',
      opinion: experts.map((x) => `${x.name ?? '专家'}：${x.opinion ?? ''}`).join('；'),
    };
  }
  if (e.type === 'COMPREHENSIVE_REVIEW_DECIDED') {
    if (d.returned) return { label: '退回修改', color: 'orange', opinion: textOf(d.opinion) };
    return {
      label: d.included ? '纳入重点项目库' : '不纳入重点项目库',
      color: d.included ? 'green' : 'default',
      opinion: textOf(d.opinion),
    };
  }
  const decision = textOf(d.decision);
  return {
    label: DECISION_LABELS[decision] ?? decision,
    color: decision === 'PASS' ? 'green' : decision === 'RETURN' ? 'orange' : 'red',
    opinion: textOf(d.opinion),
  };
}

export function isReviewDecision(e: TrailEvent): boolean {
  return REVIEW_EVENTS.includes(e.type);
}

/** Every review decision so far (all tiers and rounds), oldest first: what the earlier tiers said. */
export function ReviewOpinions({ events }: { events: TrailEvent[] }) {
  const orgName = useOrgName();
  const rows = events.filter(isReviewDecision);
  return (
    <Table
      size="small"
      rowKey="seq"
      dataSource={rows}
      pagination={false}
      locale={{ emptyText: '尚无评审意见' }}
      scroll={{ x: 700 }}
      data-testid="review-opinions"
      columns={[
        {
          title: '层级',
          width: 90,
          render: (_, e) => ({ 1: '部门初审', 2: '专业评审', 3: '综合评审' })[Number(e.data.tier)] ?? '评审',
        },
        { title: '单位', width: 180, render: (_, e) => orgName(textOf(e.data.org) || e.actor.org) },
        {
          title: '结论',
          width: 140,
          render: (_, e) => {
            const c = reviewConclusion(e);
            return <Tag color={c.color}>{c.label}</Tag>;
          },
        },
        { title: '意见', render: (_, e) => reviewConclusion(e).opinion || '—' },
        { title: '办理人', width: 120, render: (_, e) => e.actor.name ?? e.actor.userId },
        { title: '时间', width: 170, render: (_, e) => formatDateTime(e.at) },
      ]}
    />
  );
}
