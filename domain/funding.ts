/**
 * Funding sources (资金来源): each source a project records — 中央预算内投资, 地方政府专项债券, 超长期特别国债, 省级配套,
 * 前期费, 财政资金, 银行贷款, 自有资金 and others of the policy — with its amount and its state (申报 APPLIED → 下达 ISSUED
 * → 到位 IN_PLACE) and the date of each state. Higher-level and policy funds are credited to the organisation that
 * secured them: the rankings' 资金争取额度 counts them when issued or in place, never an owner's own money; the
 * 资金支付率 divides payments by the funds in place.
 */
import type { Policy } from '../policy/schema';
import { DomainError } from './errors';
import type { Actor } from './project';
import {
  event,
  isTerminal,
  requireDate,
  requireOrg,
  requireText,
  requireYuan,
  type Handlers,
} from './task-ops';

export const FUNDING_STATES = ['APPLIED', 'ISSUED', 'IN_PLACE'] as const;
export type FundingState = (typeof FUNDING_STATES)[number];
export const FUNDING_STATE_LABELS: Record<FundingState, string> = {
  APPLIED: '申报',
  ISSUED: '下达',
  IN_PLACE: '到位',
};

export interface FundingSource {
  id: string; // F1, F2, …
  sourceType: string;
  label: string;
  higherLevel: boolean;
  /** The organisation credited with securing it (资金争取); none for funds that are not higher-level. */
  securedBy?: string | undefined;
  states: {
    state: FundingState;
    amountYuan: number;
    date: string;
    documentNumber?: string | undefined;
    at: number;
    actor: Actor;
  }[];
}

/** The latest state of a source and its amount. */
export function currentOf(f: FundingSource): FundingSource['states'][number] {
  return f.states[f.states.length - 1]!;
}

/** Funds in place (到位) across all sources. */
export function fundsInPlaceYuan(sources: readonly FundingSource[] | undefined): number {
  let sum = 0;
  for (const f of sources ?? []) {
    const inPlace = f.states.filter((x) => x.state === 'IN_PLACE').pop();
    if (inPlace) sum += inPlace.amountYuan;
  }
  return sum;
}

/** When a higher-level source was secured (its first 下达 or 到位) and for how much, if it was. */
export function securedOf(f: FundingSource): { date: string; amountYuan: number } | undefined {
  if (!f.higherLevel) return undefined;
  const first = f.states.find((x) => x.state !== 'APPLIED');
  return first && { date: first.date, amountYuan: first.amountYuan };
}

function sourceTypeOf(policy: Policy, key: string) {
  const t = policy.funding?.sourceTypes[key];
  if (!t)
    throw new DomainError(
      'INVALID_DATA',
      `sourceType must be one of ${Object.keys(policy.funding?.sourceTypes ?? {}).join(', ')}`,
      { field: 'sourceType' },
    );
  return t;
}

const SECURING_KINDS = ['DEPARTMENT', 'COUNTY', 'SPECIAL_GROUP'];

export const fundingHandlers: Pick<Handlers, 'recordFundingSource'> = {
  recordFundingSource(ctx, a) {
    const { s, policy } = ctx;
    if (isTerminal(s.stage))
      throw new DomainError('WRONG_STAGE', `the project is ${s.stage}`, { stage: s.stage });
    requireOrg(
      ctx,
      [
        s.details.ownerOrg,
        s.details.responsibleDept,
        policy.startGate.fundingConfirmer,
        policy.planInclusionOrg,
      ],
      'funding sources are recorded by the owner, the responsible department, the finance department or 市发改委',
    );
    if (!(FUNDING_STATES as readonly string[]).includes(a.state))
      throw new DomainError('INVALID_DATA', `state must be one of ${FUNDING_STATES.join(', ')}`, {
        field: 'state',
      });
    requireYuan(a.amountYuan, 'amountYuan', true);
    requireDate(a.date, 'date');
    if (a.documentNumber !== undefined) requireText(a.documentNumber, 'documentNumber', 100);
    const sources = (s.fundingSources ??= []);
    const entry = {
      state: a.state,
      amountYuan: a.amountYuan,
      date: a.date,
      documentNumber: a.documentNumber,
      at: ctx.now,
      actor: ctx.req.actor,
    };
    if (a.sourceId !== undefined) {
      const f = sources.find((x) => x.id === a.sourceId);
      if (!f)
        throw new DomainError('INVALID_DATA', `no funding source ${a.sourceId} on this project`, {
          field: 'sourceId',
        });
      const now = currentOf(f);
      if (FUNDING_STATES.indexOf(a.state) <= FUNDING_STATES.indexOf(now.state))
        throw new DomainError(
          'INVALID_DATA',
          `${f.id} is already ${FUNDING_STATE_LABELS[now.state]}; a state only moves forward`,
          {
            field: 'state',
          },
        );
      if (a.date < now.date)
        throw new DomainError(
          'INVALID_DATA',
          `the date cannot precede the ${FUNDING_STATE_LABELS[now.state]} date ${now.date}`,
          { field: 'date' },
        );
      if (a.sourceType !== undefined && a.sourceType !== f.sourceType)
        throw new DomainError('INVALID_DATA', 'a source keeps its type', { field: 'sourceType' });
      f.states.push(entry);
      event(ctx, 'FUNDING_SOURCE_UPDATED', {
        sourceId: f.id,
        sourceType: f.sourceType,
        state: a.state,
        amountYuan: a.amountYuan,
        date: a.date,
        documentNumber: a.documentNumber,
        securedBy: f.securedBy,
      });
      return `funding source ${f.id} (${f.label}) ${FUNDING_STATE_LABELS[a.state]}`;
    }
    if (a.sourceType === undefined)
      throw new DomainError('INVALID_DATA', 'a new source names its sourceType', { field: 'sourceType' });
    const type = sourceTypeOf(policy, a.sourceType);
    let securedBy: string | undefined;
    if (type.higherLevel) {
      securedBy =
        a.securedBy ??
        (SECURING_KINDS.includes(orgKind(policy, ctx.req.actor.org) ?? '')
          ? ctx.req.actor.org
          : s.details.responsibleDept);
      if (!SECURING_KINDS.includes(orgKind(policy, securedBy) ?? ''))
        throw new DomainError(
          'INVALID_DATA',
          'securedBy is a department, county or special group of the policy',
          { field: 'securedBy' },
        );
    } else if (a.securedBy !== undefined) {
      throw new DomainError(
        'INVALID_DATA',
        `${type.label} is not higher-level funding: nobody is credited with securing it`,
        { field: 'securedBy' },
      );
    }
    const f: FundingSource = {
      id: `F${sources.length + 1}`,
      sourceType: a.sourceType,
      label: type.label,
      higherLevel: type.higherLevel,
      securedBy,
      states: [entry],
    };
    sources.push(f);
    event(ctx, 'FUNDING_SOURCE_RECORDED', {
      sourceId: f.id,
      sourceType: f.sourceType,
      label: f.label,
      state: a.state,
      amountYuan: a.amountYuan,
      date: a.date,
      documentNumber: a.documentNumber,
      securedBy,
    });
    return `funding source ${f.id} (${f.label}) recorded as ${FUNDING_STATE_LABELS[a.state]}`;
  },
};

function orgKind(policy: Policy, id: string): string | undefined {
  return policy.organisations.find((o) => o.id === id)?.kind;
}
