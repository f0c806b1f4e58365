/**
 * Synthetic read-model data for benchmarks, produced by the real domain code: every project is driven through
 * `applyAction` (domain/lifecycle.ts) by the organisation the policy assigns to each step, and its clock runs as
 * the workflow runs it — deadlines computed by the real scheduling code (activities/deadlines.ts
 * `computeSchedule` on the package work calendar), reminders, escalations and reserve staleness fired by
 * domain/time.ts at each wake-up. Blockers run their own ledger (domain/blockers.ts) and report back to the
 * project as the child workflow does. Nothing touches Temporal or Mongo here.
 *
 * Driving 10,000 projects one by one would take minutes, so a pool of TEMPLATE projects (240 by default: 8 to 65
 * per stage, in proportion to the stage mix) is driven on their own timelines (dates, gaps and stuck items drawn
 * from a seeded PRNG), and each of the N projects is a COPY of a template with its own id, name, owner,
 * county, special group (portfolio), leader, project code and amounts. Copies keep their template's dates
 * (so rare stages share 8 timelines, the big ones dozens).
 * A copy stays a state the domain could have produced: ids, county and portfolio are replaced wherever they
 * occur (task ids and assignees, actors), and all amounts are scaled by one factor m/100 (template amounts are
 * multiples of 10,000 元, so the results stay integer 元 and every ratio the domain stored is unchanged).
 */
import { computeSchedule } from '../activities/deadlines';
import { blockerRecordOf } from '../activities/read-model';
import { buildWorkCalendar, endOfShanghaiDayMs, shanghaiDayOf, type WorkCalendar } from '../calendar';
import type { ProjectAction } from '../domain/actions';
import {
  applyBlockerAction,
  blockerSyncOf,
  createBlockerState,
  unreportedChange,
  type BlockerAction,
  type BlockerState,
} from '../domain/blockers';
import { holds } from '../domain/conditions';
import {
  applyAction,
  applyBlockerChange,
  createInitialState,
  isTerminal,
  requiredItems,
  tier1Departments,
} from '../domain/lifecycle';
import type { Actor, ProjectDetails, Stage } from '../domain/project';
import { snapshotOf, type ProjectSnapshot, type ProjectState, type TaskLedger } from '../domain/state';
import {
  applySchedules,
  fireDue,
  fireTaskClocks,
  nextClockWakeAt,
  nextWakeAt,
  scheduleRequests,
} from '../domain/time';
import type { Duration, Policy } from '../policy/schema';
import { actor, projectDetails } from '../test/support/fixtures';

const DAY = 86_400_000;
const HOUR = 3_600_000;
/** What loadWorkCalendar reports for the package calendar with no admin-loaded years or overrides. */
const CALENDAR_VERSION = 'pkg+ov0';

// ------------------------------------------------------------------------------------------ random

/** mulberry32: small, fast and seedable, so a run is reproducible from --seed. */
export class Rng {
  private a: number;
  constructor(seed: number) {
    this.a = seed >>> 0;
  }
  next(): number {
    this.a = (this.a + 0x6d2b79f5) >>> 0;
    let t = this.a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    const v = items[Math.floor(this.next() * items.length)];
    if (v === undefined) throw new Error('pick from an empty list');
    return v;
  }
  /** A key of `weights` with probability proportional to its weight. */
  weighted<K extends string>(weights: Readonly<Record<K, number>>): K {
    const entries = Object.entries(weights) as [K, number][];
    let r = this.next() * entries.reduce((s, [, w]) => s + w, 0);
    for (const [k, w] of entries) if ((r -= w) < 0) return k;
    return entries[entries.length - 1]![0];
  }
}

/** Money in templates is whole 万元 (10,000 元), so a copy's scaling by m/100 stays integer 元. */
const wanYuan = (yuan: number) => Math.max(10_000, Math.round(yuan / 10_000) * 10_000);

// ------------------------------------------------------------------------------------------ stages

/** Stages a template is driven to, and their share of the N projects (per mille). */
export const STAGE_MIX = {
  DRAFT: 80,
  DEPT_SCREENING: 60,
  SPECIALIST_REVIEW: 20,
  COMPREHENSIVE_REVIEW: 10,
  RESERVE: 230,
  PRE_CONSTRUCTION: 190,
  UNDER_CONSTRUCTION: 270,
  SUSPENDED: 10,
  COMPLETED: 100,
  REJECTED: 15,
  WITHDRAWN: 15,
} as const satisfies Partial<Record<Stage, number>>;
export type TemplateStage = keyof typeof STAGE_MIX;

// ------------------------------------------------------------------------------------------ the simulated workflow

interface SimContext {
  policy: Policy;
  calendar: WorkCalendar;
}

/**
 * One project as its workflow would hold it: actions applied at given instants, and between them the clock
 * wake-ups the workflow's timer loop would take (deadline scheduling, reminders, escalations, staleness),
 * plus the child ledgers of its blockers.
 */
class ProjectSim {
  readonly s: ProjectState;
  now: number;
  readonly blockers = new Map<string, BlockerState>();
  readonly stageChanges: { at: number; stage: Stage }[];
  private requests = 0;

  constructor(
    private readonly ctx: SimContext,
    projectId: string,
    details: ProjectDetails,
    createdAt: number,
  ) {
    this.now = createdAt;
    this.s = createInitialState(
      projectId,
      details,
      ctx.policy,
      actor(details.ownerOrg, 'applicant'),
      createdAt,
    );
    this.stageChanges = [{ at: createdAt, stage: 'DRAFT' }];
    this.settle();
  }

  get owner(): Actor {
    return actor(this.s.details.ownerOrg, 'applicant');
  }

  /** Runs every clock wake-up up to `t` (the workflow's `condition(wake, wakeAt - now)`), then sets the time. */
  advanceTo(t: number): void {
    for (let guard = 0; ; guard++) {
      if (guard > 100_000) throw new Error(`${this.s.projectId}: the clock does not settle`);
      const { policy } = this.ctx;
      const wakes = [isTerminal(this.s.stage) ? undefined : nextWakeAt(this.s, policy, this.now)];
      for (const b of this.blockers.values())
        if (b.blocker.status !== 'CLOSED') wakes.push(nextClockWakeAt(b, this.now));
      const due = wakes.filter((w): w is number => w !== undefined);
      const next = due.length > 0 ? Math.min(...due) : undefined;
      if (next === undefined || next > t) break;
      this.now = Math.max(this.now, next);
      this.settle();
    }
    this.now = Math.max(this.now, t);
  }

  /** One update at instant `at`, as the workflow's update handler applies it, then the loop that follows it. */
  act(at: number, by: Actor, action: ProjectAction): void {
    this.advanceTo(at);
    applyAction(this.s, this.ctx.policy, { requestId: `r${++this.requests}`, actor: by, action }, this.now);
    this.settle();
  }

  blockerAct(at: number, blockerId: string, by: Actor, action: BlockerAction): void {
    this.advanceTo(at);
    const b = this.blockers.get(blockerId);
    if (!b) throw new Error(`no blocker ${blockerId}`);
    applyBlockerAction(b, { requestId: `r${++this.requests}`, actor: by, action }, this.now);
    this.settle();
  }

  /** One pass of the workflows' loops at `now`: start blockers, schedule deadlines, fire what is due. */
  private settle(): void {
    const { policy } = this.ctx;
    const s = this.s;
    for (const b of s.blockers ?? []) {
      if (b.started) continue;
      this.blockers.set(
        b.id,
        createBlockerState({
          projectId: s.projectId,
          projectStage: s.stage,
          details: s.details,
          summary: { ...b },
        }),
      );
      b.started = true;
    }
    if (!isTerminal(s.stage)) {
      // A stale reserve opens a task that needs a deadline: the workflow loops again at once.
      for (let pass = 0; pass < 3; pass++) {
        this.schedule(s);
        fireDue(s, policy, this.now);
        if (!needsScheduling(s)) break;
      }
    }
    for (const b of this.blockers.values()) {
      if (b.blocker.status !== 'CLOSED') {
        this.schedule(b);
        fireTaskClocks(b, policy, this.now);
      }
      const change = unreportedChange(b);
      if (change) {
        applyBlockerChange(s, change);
        b.reported = { status: change.status, escalationLevel: change.escalationLevel, round: change.round };
      }
      b.outbox = { events: [], taskIds: [] }; // written to the read model
    }
    s.outbox = { events: [], taskIds: [] };
    const last = this.stageChanges[this.stageChanges.length - 1];
    if (last?.stage !== s.stage) this.stageChanges.push({ at: this.now, stage: s.stage });
  }

  /** The scheduling activity: deadlines from the work calendar for the tasks that lack one. */
  private schedule(ledger: TaskLedger): void {
    const requests = scheduleRequests(ledger, this.ctx.policy);
    if (requests.length === 0) return;
    const results = requests.map((r) => computeSchedule(this.ctx.calendar, CALENDAR_VERSION, r));
    applySchedules(ledger, this.ctx.policy, results, this.now);
  }
}

function needsScheduling(s: TaskLedger): boolean {
  return s.tasks.some(
    (t) => t.status === 'OPEN' && t.clock?.needsSchedule && !t.clock.pauses.some((p) => p.to === undefined),
  );
}

// ------------------------------------------------------------------------------------------ template details

const INDUSTRY_WORDS: Record<string, readonly string[]> = {
  transport: ['综合客运枢纽', '城市快速路', '物流园区道路'],
  highway: ['国道改线工程', '高速公路连接线', '农村公路提质工程'],
  water: ['水库除险加固', '供水管网改造', '汾河生态修复'],
  energy: ['光伏发电项目', '煤层气综合利用', '储能电站'],
  housing: ['城区供热管网改造工程', '老旧小区改造', '保障性租赁住房'],
  urban: ['城市污水处理厂提标改造', '垃圾焚烧发电', '智慧停车场'],
  agriculture: ['高标准农田建设', '现代农业产业园', '冷链仓储中心'],
  industry: ['特钢新材料项目', '装备制造产业园', '焦化升级改造'],
  commerce: ['商贸物流中心', '城市综合体', '农产品批发市场'],
  tourism: ['文旅康养综合体', '景区提升工程', '历史街区保护利用'],
  health: ['人民医院新院区', '疾控中心实验楼', '妇幼保健院迁建'],
  education: ['中学新校区', '职业技术学院实训基地', '幼儿园建设'],
  digital: ['城市大数据中心', '5G基站建设', '数字政府平台'],
  other: ['综合开发项目', '产城融合示范区', '园区配套工程'],
};
const LEADERS = ['张副市长', '李副市长', '王副市长', '赵副市长', '刘副市长', '陈副市长'];
const FUNDED_BY_GOVERNMENT = new Set([
  'transport',
  'highway',
  'water',
  'health',
  'education',
  'urban',
  'housing',
]);

function templateDetails(rng: Rng, policy: Policy, county: string, portfolio: string): ProjectDetails {
  const industry = rng.pick(Object.keys(policy.review.tier1.byIndustry));
  const responsibleDept = policy.review.tier1.byIndustry[industry]?.[0] ?? 'ndrc';
  const governmentInvested = FUNDED_BY_GOVERNMENT.has(industry) ? rng.chance(0.8) : rng.chance(0.15);
  const total = wanYuan(Math.exp(Math.log(5e7) + rng.next() * (Math.log(5e9) - Math.log(5e7))));
  return projectDetails({
    name: rng.pick(INDUSTRY_WORDS[industry] ?? ['项目']),
    county,
    specialActivity: rng.pick([1, 2, 3, 4, 5, 6] as const),
    portfolio,
    industry,
    responsibleDept,
    assignedLeader: rng.pick(LEADERS),
    ownerOrg: county,
    ownerName: '建设有限公司',
    investorType: governmentInvested
      ? rng.pick(['GOVERNMENT', 'SOE'] as const)
      : rng.pick(['PRIVATE', 'SOE', 'FOREIGN'] as const),
    approvalRegime: governmentInvested ? 'APPROVAL' : rng.pick(['VERIFICATION', 'FILING'] as const),
    flags: {
      provincialKey: rng.chance(0.1),
      cityKey: rng.chance(0.3),
      major: rng.chance(0.1),
      emergency: rng.chance(0.03),
      governmentInvested,
      privatePromotion: !governmentInvested && rng.chance(0.3),
    },
    landInvolved: rng.chance(0.7),
    annualEnergyUseTce: rng.chance(0.2) ? rng.int(10_000, 40_000) : rng.int(100, 9_999),
    totalInvestmentYuan: total,
    annualPlanYuan: wanYuan(total * (0.25 + rng.next() * 0.2)), // redrawn with the construction length
  });
}

// ------------------------------------------------------------------------------------------ template timelines

/** When each step of the full path happens, in days after creation (parallel items each have their own day). */
interface Timeline {
  submit: number;
  tier1: number[];
  tier2: number;
  tier3: number | undefined;
  /** The special group's outcome: recommended as a key project (建议清单) or not. */
  keyRecommended: boolean;
  plan: number;
  matters: number[];
  code: number;
  steps: number[];
  funding: number;
  start: number;
}

/** A parallel item's gap: usually days or weeks, sometimes one that hangs for months (the overdue ones). */
function gap(rng: Rng, lo: number, hi: number, stuck = 0.1): number {
  return rng.int(lo, hi) + (rng.chance(stuck) ? rng.int(60, 400) : 0);
}

/** Calendar days a deadline rule allows, roughly (a working day is 1.4 calendar days). */
function ruleDays(rule: Duration): number {
  if ('workingDays' in rule) return Math.ceil(rule.workingDays * 1.4);
  if ('calendarDays' in rule) return rule.calendarDays;
  if ('seconds' in rule) return Math.ceil(rule.seconds / 86_400);
  return 30; // the next monthly meeting
}

/**
 * An item with a deadline is usually done within it (30–105 % of it), sometimes months later. `stuck` is that
 * chance for the item: a stage of n parallel items passes about 0.2 / n, so about a fifth of stages hang.
 */
function itemGap(rng: Rng, rule: Duration, stuck: number): number {
  const days = ruleDays(rule);
  const late = rng.chance(stuck) ? rng.int(30, 300) : 0;
  return Math.max(1, Math.round(days * (0.3 + rng.next() * 0.75))) + late;
}

function timelineOf(rng: Rng, policy: Policy, d: ProjectDetails, recommend: boolean): Timeline {
  const submit = rng.int(3, 45);
  const depts = tier1Departments(policy, d);
  const tier1 = depts.map(() => submit + itemGap(rng, policy.review.tier1.deadline, 0.2 / depts.length));
  const tier2 = Math.max(...tier1) + itemGap(rng, policy.review.tier2.deadline, 0.05);
  const keyRecommended = rng.chance(0.5) || recommend;
  const tier3 = holds(policy.review.tier3.appliesWhen, { ...d, keyRecommended })
    ? tier2 + rng.int(10, 35)
    : undefined;
  const plan = (tier3 ?? tier2) + itemGap(rng, policy.review.planInclusionDeadline, 0.05);
  const matterItems = requiredItems(policy.reserve.matters, d);
  const matters = matterItems.map((m) => plan + itemGap(rng, m.deadline, 0.2 / matterItems.length));
  // Often the code comes last: the project then waits in the reserve with no open matter (not overdue).
  const code = rng.chance(0.6) ? Math.max(...matters) + rng.int(5, 60) : plan + gap(rng, 10, 120, 0.05);
  const pre = Math.max(...matters, code);
  const stepItems = requiredItems(policy.preConstruction.steps, d);
  const steps = stepItems.map((m) => pre + itemGap(rng, m.deadline, 0.2 / stepItems.length));
  const funding = Math.max(plan + 1, pre + rng.int(-30, 60));
  const start = Math.max(...steps, funding) + rng.int(5, 30);
  return { submit, tier1, tier2, tier3, keyRecommended, plan, matters, code, steps, funding, start };
}

/** Day (after creation) the project enters each stage of the happy path. */
function entryDay(t: Timeline, stage: Stage): number {
  switch (stage) {
    case 'DRAFT':
      return 0;
    case 'DEPT_SCREENING':
      return t.submit;
    case 'SPECIALIST_REVIEW':
      return Math.max(...t.tier1);
    case 'COMPREHENSIVE_REVIEW':
      return t.tier2;
    case 'RESERVE':
      return t.plan;
    case 'PRE_CONSTRUCTION':
      return Math.max(...t.matters, t.code);
    default:
      return t.start;
  }
}

/** Day (after creation) of the step that leaves `stage` on the happy path. */
function exitDay(t: Timeline, stage: Stage): number {
  switch (stage) {
    case 'DEPT_SCREENING':
      return Math.max(...t.tier1);
    case 'SPECIALIST_REVIEW':
      return t.tier3 === undefined ? t.plan : t.tier2;
    case 'COMPREHENSIVE_REVIEW':
      return t.plan;
    case 'RESERVE':
      return entryDay(t, 'PRE_CONSTRUCTION');
    case 'PRE_CONSTRUCTION':
      return t.start;
    default:
      throw new Error(`no exit day for ${stage}`);
  }
}

interface Step {
  at: number;
  /** The step that leaves the stage it is flagged with: a project meant to stay there stops before it. */
  exits?: Stage | undefined;
  /** Not on the stage path (blockers): runs even after the path has stopped. */
  side?: boolean;
  run: (sim: ProjectSim) => void;
}

const day = (ms: number) => shanghaiDayOf(ms);
const monthOf = (ms: number) => day(ms).slice(0, 7);
/** 00:00 Asia/Shanghai of the first day of the month after `period` (YYYY-MM). */
function nextMonthStart(period: string): number {
  const [y, m] = [Number(period.slice(0, 4)), Number(period.slice(5, 7))];
  const next = m === 12 ? `${y + 1}-01-01` : `${y}-${String(m + 1).padStart(2, '0')}-01`;
  return endOfShanghaiDayMs(next) + 1 - DAY;
}

/**
 * Monthly progress reports (each recorded in the first week of the next month) and payments (about every other
 * month, at most the approved estimate) from the start until `until`; sometimes the latest report is missing.
 */
function constructionSteps(
  rng: Rng,
  d: ProjectDetails,
  estimate: number,
  startAt: number,
  until: number,
  durationMonths: number,
): Step[] {
  const reports: { at: number; period: string }[] = [];
  for (let period = monthOf(startAt); ;) {
    const at = nextMonthStart(period) + rng.int(0, 6) * DAY + rng.int(9, 17) * HOUR;
    if (at >= until) break;
    reports.push({ at, period });
    period = monthOf(at);
  }
  if (reports.length > 1 && rng.chance(0.15)) reports.pop(); // the owner has not reported last month yet
  const out: Step[] = [];
  const perMonth = d.totalInvestmentYuan / durationMonths;
  let [cumulative, ytd, paid, year] = [0, 0, 0, ''];
  for (const { at, period } of reports) {
    const month = wanYuan(perMonth * (0.6 + rng.next() * 0.8));
    cumulative += month;
    ytd = period.slice(0, 4) === year ? ytd + month : month;
    year = period.slice(0, 4);
    const action: ProjectAction = {
      type: 'recordProgress',
      period,
      ytdInvestmentYuan: ytd,
      cumulativeInvestmentYuan: cumulative,
      fundsReceivedYuan: wanYuan(cumulative * 0.9),
      physicalProgress: '主体工程施工',
      ...(rng.chance(0.2) ? { problems: '征地拆迁进度滞后' } : {}),
    };
    out.push({ at, run: (sim) => sim.act(at, sim.owner, action) });
    const payAt = at + rng.int(3, 15) * DAY;
    const amount = wanYuan(cumulative * 0.7 - paid);
    if (payAt < until && rng.chance(0.5) && cumulative * 0.7 - paid >= 10_000 && paid + amount <= estimate) {
      paid += amount;
      const pay: ProjectAction = {
        type: 'recordPayment',
        amountYuan: amount,
        date: day(payAt),
        basis: '工程进度款',
      };
      out.push({ at: payAt, run: (sim) => sim.act(payAt, sim.owner, pay) });
    }
  }
  return out;
}

/** Blockers (百项堵点) on a third of the projects once in pre-construction; about half closed (销号) since. */
function blockerSteps(rng: Rng, d: ProjectDetails, from: number, until: number): Step[] {
  if (!rng.chance(0.35) || until <= from) return [];
  const out: Step[] = [];
  const count = rng.int(1, 2);
  for (let i = 0; i < count; i++) {
    const raiseAt = from + Math.floor(rng.next() * (until - from));
    const responsible = rng.pick(['natural-resources', 'finance', 'approval-bureau', 'housing', d.county]);
    const level = responsible === d.county ? 'COUNTY' : rng.chance(0.1) ? 'PROVINCE' : 'CITY';
    const category = rng.pick(['LAND', 'FUNDS', 'APPROVALS', 'EXPROPRIATION', 'UTILITIES']);
    let blockerId = ''; // known once raised; the steps run in time order
    out.push({
      at: raiseAt,
      side: true,
      run: (sim) => {
        sim.act(raiseAt, sim.owner, {
          type: 'raiseBlocker',
          category,
          level,
          responsibleOrg: responsible,
          description: '项目建设遇到堵点，需协调解决',
        });
        blockerId = sim.s.blockers?.[sim.s.blockers.length - 1]?.id ?? '';
      },
    });
    if (!rng.chance(0.55)) continue;
    const resolveAt = raiseAt + rng.int(3, 40) * DAY;
    const confirmAt = resolveAt + rng.int(1, 10) * DAY;
    out.push({
      at: resolveAt,
      side: true,
      run: (sim) =>
        sim.blockerAct(resolveAt, blockerId, actor(responsible), {
          type: 'resolveBlocker',
          note: '已协调解决',
        }),
    });
    out.push({
      at: confirmAt,
      side: true,
      run: (sim) => sim.blockerAct(confirmAt, blockerId, sim.owner, { type: 'confirmBlockerClosure' }),
    });
  }
  return out;
}

export interface Template {
  id: string;
  stage: TemplateStage;
  county: string;
  portfolio: string;
  seq: number;
  createdAt: number;
  /** The snapshot as JSON (numbers and strings only: instants are epoch ms). */
  json: string;
  stageChanges: { at: number; stage: Stage }[];
  /** Deadlines of the open, unpaused tasks (for the sanity check of the overdue count). */
  openDueAts: number[];
  /** Blocker records as the read model writes them, instants as epoch ms. */
  blockers: string[];
}

const CONSTRUCTION: readonly TemplateStage[] = ['UNDER_CONSTRUCTION', 'SUSPENDED', 'COMPLETED'];

/** Drives one template project to `target`; how long ago it got there is drawn per stage. */
export function driveTemplate(
  ctx: SimContext,
  rng: Rng,
  id: string,
  target: TemplateStage,
  county: string,
  portfolio: string,
  now: number,
): Template {
  const { policy } = ctx;
  const details = templateDetails(rng, policy, county, portfolio);
  // Only projects that need the leading group's review ever sit in COMPREHENSIVE_REVIEW: recommended ones do.
  const t = timelineOf(rng, policy, details, target === 'COMPREHENSIVE_REVIEW');

  // Where the project is at `now`: the stage it stops in, and how many days ago it entered it.
  const months = (m: number) => Math.round(m * 30.44);
  let stopAt: Stage = target;
  let age: number;
  let durationMonths = rng.int(12, 36); // construction
  let constructionDays: number | undefined; // start → completion or suspension
  switch (target) {
    case 'DRAFT':
      age = rng.int(0, 120);
      break;
    case 'DEPT_SCREENING':
    case 'SPECIALIST_REVIEW':
    case 'COMPREHENSIVE_REVIEW':
    case 'RESERVE':
    case 'PRE_CONSTRUCTION': {
      // Mostly somewhere within the stage's own course; a quarter stuck past it (their last item open).
      const course = exitDay(t, target) - entryDay(t, target);
      age = rng.chance(0.75) ? rng.int(0, course) : course + rng.int(1, target === 'RESERVE' ? 450 : 150);
      break;
    }
    case 'UNDER_CONSTRUCTION': {
      const elapsed = rng.int(1, 30);
      durationMonths = Math.max(durationMonths, elapsed + rng.int(2, 12));
      age = months(elapsed) + rng.int(0, 20);
      break;
    }
    case 'SUSPENDED':
      stopAt = 'UNDER_CONSTRUCTION';
      constructionDays = months(rng.int(3, 18));
      age = constructionDays + rng.int(5, 180);
      break;
    case 'COMPLETED':
      stopAt = 'UNDER_CONSTRUCTION';
      constructionDays = months(durationMonths);
      age = constructionDays + rng.int(5, 600);
      break;
    case 'REJECTED':
      stopAt = rng.chance(0.5) ? 'DRAFT' : 'DEPT_SCREENING';
      age = rng.int(5, 300);
      break;
    case 'WITHDRAWN':
      stopAt = rng.chance(0.5) ? 'DRAFT' : 'RESERVE';
      age = rng.int(5, 300);
      break;
  }
  // The plan is for about one year of construction; funds are confirmed for part of the estimate.
  details.annualPlanYuan = wanYuan(
    Math.min(1, 12 / durationMonths) * details.totalInvestmentYuan * (0.85 + rng.next() * 0.3),
  );
  const estimate = wanYuan(details.totalInvestmentYuan * (0.85 + rng.next() * 0.15));
  const t0 = now - (entryDay(t, stopAt) + age) * DAY - rng.int(8, 14) * HOUR; // the entry step (up to 7 h into its day) is past
  const at = (days: number) => t0 + days * DAY + rng.int(0, 7) * HOUR;

  // The path as timed steps; each acts on the task it names, as that task's assignee.
  const steps: Step[] = [];
  const push = (days: number, run: (sim: ProjectSim, when: number) => void, exits?: Stage) => {
    const when = at(days);
    steps.push({ at: when, exits, run: (sim) => run(sim, when) });
  };
  const openTask = (sim: ProjectSim, key: string) => {
    const task = sim.s.tasks.find((x) => x.key === key && x.status === 'OPEN');
    if (!task) throw new Error(`${id}: no open task ${key} in ${sim.s.stage}`);
    return task;
  };
  const decide = (key: string, opinion: string) => (sim: ProjectSim, when: number) => {
    const task = openTask(sim, key);
    const role = task.tier === 2 ? 'special-group' : task.tier === 3 ? 'leading-group' : 'reviewer';
    // Each tier decides with the outputs the seed asks of it (domain/stages/review-outputs.ts).
    const today = day(when);
    const action: ProjectAction =
      task.tier === 2
        ? {
            type: 'decideSpecialistReview',
            taskId: task.id,
            outcome: t.keyRecommended ? 'RECOMMENDED' : 'NOT_RECOMMENDED',
            assessments: { technical: opinion, investmentBenefit: '投资效益良好', riskControl: '风险可控' },
          }
        : task.tier === 3
          ? {
              type: 'decideComprehensiveReview',
              taskId: task.id,
              meeting: { month: today.slice(0, 7), date: today },
              included: true,
              fundAllocation: sim.s.details.flags.governmentInvested
                ? { amountYuan: estimate / 10, sourceType: 'SPECIAL_BONDS', year: Number(today.slice(0, 4)) }
                : undefined,
            }
          : { type: 'decideReview', taskId: task.id, decision: 'PASS', opinion };
    sim.act(when, actor(task.assigneeOrg, role), action);
  };
  const complete = (key: string, approvedEstimateYuan?: number) => (sim: ProjectSim, when: number) => {
    const task = openTask(sim, key);
    sim.act(when, actor(task.assigneeOrg), {
      type: 'completeTask',
      taskId: task.id,
      documentNumber: `临文〔${day(when).slice(0, 4)}〕${rng.int(1, 300)}号`,
      date: day(when),
      ...(approvedEstimateYuan === undefined ? {} : { approvedEstimateYuan }),
    });
  };

  const lastTier1 = Math.max(...t.tier1);
  const pre = entryDay(t, 'PRE_CONSTRUCTION');
  push(t.submit, (sim, when) => sim.act(when, sim.owner, { type: 'submit' }), 'DRAFT');
  tier1Departments(policy, details).forEach((org, i) =>
    push(
      t.tier1[i]!,
      decide(`R1-T1-${org}`, '同意'),
      t.tier1[i] === lastTier1 ? 'DEPT_SCREENING' : undefined,
    ),
  );
  push(t.tier2, decide('R1-T2', '专业评审通过'), t.tier3 === undefined ? undefined : 'SPECIALIST_REVIEW');
  if (t.tier3 !== undefined) push(t.tier3, decide('R1-T3', '综合评审通过'));
  push(
    t.plan,
    (sim, when) =>
      sim.act(when, actor(policy.planInclusionOrg), {
        type: 'recordPlanInclusion',
        planName: `临汾市${day(when).slice(0, 4)}年重点项目年度计划`,
        documentNumber: `临发改投资〔${day(when).slice(0, 4)}〕${rng.int(1, 99)}号`,
        date: day(when),
      }),
    t.tier3 === undefined ? 'SPECIALIST_REVIEW' : 'COMPREHENSIVE_REVIEW',
  );
  requiredItems(policy.reserve.matters, details).forEach((m, i) =>
    push(t.matters[i]!, complete(`M-${m.key}`), t.matters[i] === pre ? 'RESERVE' : undefined),
  );
  const codeDay = day(t0 + t.code * DAY);
  const code = `${codeDay.slice(2, 4)}${codeDay.slice(5, 7)}-141002-04-01-${String(rng.int(1, 999_999)).padStart(6, '0')}`;
  push(
    t.code,
    (sim, when) => sim.act(when, sim.owner, { type: 'recordProjectCode', code }),
    t.code === pre ? 'RESERVE' : undefined,
  );
  requiredItems(policy.preConstruction.steps, details).forEach((s, i) =>
    push(t.steps[i]!, complete(`S-${s.key}`, s.recordsApprovedEstimate ? estimate : undefined)),
  );
  push(t.funding, (sim, when) =>
    sim.act(when, details.flags.governmentInvested ? actor(policy.startGate.fundingConfirmer) : sim.owner, {
      type: 'confirmFunding',
      amountYuan: wanYuan(estimate * 0.6),
      documentNumber: `临财建〔${day(when).slice(0, 4)}〕${rng.int(1, 99)}号`,
      date: day(when),
    }),
  );
  push(
    t.start,
    (sim, when) => {
      // 开工申请 by the owner, then the 开工条件核查 by the responsible department (the policy's checker).
      sim.act(when, sim.owner, { type: 'startConstruction', date: day(when) });
      sim.act(when, actor(details.responsibleDept), { type: 'checkStart', decision: 'CONFIRM' });
    },
    'PRE_CONSTRUCTION',
  );

  const startAt = steps[steps.length - 1]!.at;
  const endAt = constructionDays === undefined ? now : Math.min(now - HOUR, startAt + constructionDays * DAY);
  if (CONSTRUCTION.includes(target)) {
    steps.push(...constructionSteps(rng, details, estimate, startAt, endAt, durationMonths));
    if (target === 'COMPLETED')
      steps.push({
        at: endAt,
        run: (sim) =>
          sim.act(endAt, actor(details.responsibleDept), {
            type: 'acceptCompletion',
            documentNumber: `竣工验收〔${day(endAt).slice(0, 4)}〕${rng.int(1, 99)}号`,
            date: day(endAt),
          }),
      });
    if (target === 'SUSPENDED')
      steps.push({
        at: endAt,
        run: (sim) => sim.act(endAt, sim.owner, { type: 'suspend', reason: '征地拆迁未完成，暂停施工' }),
      });
  }
  if (target === 'PRE_CONSTRUCTION' || target === 'UNDER_CONSTRUCTION' || target === 'SUSPENDED')
    steps.push(...blockerSteps(rng, details, at(pre) + 8 * HOUR, now - HOUR));

  // Rejected by a tier-1 department or withdrawn by the applicant, some days after reaching `stopAt`.
  const leaveAt =
    target === 'REJECTED' || target === 'WITHDRAWN'
      ? Math.min(now - 2 * HOUR, now - age * DAY + rng.int(1, Math.min(age, 20)) * DAY)
      : undefined;

  const sim = new ProjectSim(ctx, id, details, t0);
  let stopped = false;
  for (const step of steps.sort((a, b) => a.at - b.at)) {
    if (step.at > now || (leaveAt !== undefined && step.at >= leaveAt)) break;
    // The step that would leave the stop stage, and every later step of the path, belong to later stages.
    if (step.exits === stopAt) stopped = true;
    if (!stopped || step.side) step.run(sim);
  }
  if (target === 'REJECTED') {
    if (sim.s.stage === 'DRAFT') sim.act(leaveAt!, sim.owner, { type: 'submit' });
    const review = sim.s.tasks.find((x) => x.kind === 'REVIEW' && x.tier === 1 && x.status === 'OPEN');
    if (!review) throw new Error(`${id}: no tier-1 review to reject`);
    sim.act(leaveAt! + HOUR, actor(review.assigneeOrg), {
      type: 'decideReview',
      taskId: review.id,
      decision: 'REJECT',
      opinion: '不符合产业政策',
    });
  }
  if (target === 'WITHDRAWN')
    sim.act(leaveAt!, sim.owner, { type: 'withdraw', reason: '建设条件发生变化，申请撤回' });
  sim.advanceTo(now);
  if (sim.s.stage !== target) throw new Error(`${id}: driven to ${sim.s.stage}, not ${target}`);

  const snapshot = snapshotOf(sim.s);
  return {
    id,
    stage: target,
    county,
    portfolio,
    seq: sim.s.seq,
    createdAt: sim.s.createdAt,
    json: JSON.stringify(snapshot),
    stageChanges: sim.stageChanges,
    openDueAts: snapshot.openTasks.flatMap((x) =>
      x.deadline && !x.clock?.pauses.some((p) => p.to === undefined) ? [x.deadline.dueAt] : [],
    ),
    // The document `syncBlocker` writes (its dates become ISO strings in JSON; copies revive them).
    blockers: [...sim.blockers.values()].map((b) =>
      JSON.stringify({
        _id: b.blocker.id,
        ...blockerRecordOf(blockerSyncOf(b, { events: [], tasks: [] }), new Date(now)),
      }),
    ),
  };
}

// ------------------------------------------------------------------------------------------ copies

export interface CopyVariation {
  id: string;
  county: string;
  countyName: string;
  portfolio: string;
  /** Amounts are multiplied by scalePercent / 100. */
  scalePercent: number;
  leader: string | undefined;
  serial: number;
}

/** Exact JSON string values only: `"yaodu"` and the fixture user id `"yaodu-user"`. */
function replaceOrg(json: string, from: string, to: string): string {
  if (from === to) return json;
  return json.split(`"${from}"`).join(`"${to}"`).split(`"${from}-user"`).join(`"${to}-user"`);
}

const scaled = (yuan: number, pct: number) => (yuan / 100) * pct; // template amounts are multiples of 10,000

/** A distinct project from a template: see the header for what changes and why it stays consistent. */
export function copyOf(
  tpl: Template,
  v: CopyVariation,
): { snapshot: ProjectSnapshot; blockers: Record<string, unknown>[] } {
  const swap = (json: string) =>
    replaceOrg(replaceOrg(json.split(tpl.id).join(v.id), tpl.county, v.county), tpl.portfolio, v.portfolio);
  const snapshot = JSON.parse(swap(tpl.json)) as ProjectSnapshot;
  const d = snapshot.details;
  const pct = v.scalePercent;
  d.name = `${v.countyName}${d.name}（${String(v.serial).padStart(5, '0')}）`;
  d.ownerName = `${v.countyName}${d.ownerName}`;
  d.assignedLeader = v.leader;
  d.totalInvestmentYuan = scaled(d.totalInvestmentYuan, pct);
  d.annualPlanYuan = scaled(d.annualPlanYuan, pct);
  if (snapshot.projectCode)
    snapshot.projectCode = `${snapshot.projectCode.slice(0, 18)}${String(v.serial % 1_000_000).padStart(6, '0')}`;
  if (snapshot.funding) snapshot.funding.confirmedYuan = scaled(snapshot.funding.confirmedYuan, pct);
  if (snapshot.approvedEstimateYuan !== undefined)
    snapshot.approvedEstimateYuan = scaled(snapshot.approvedEstimateYuan, pct);
  snapshot.cumulativePaidYuan = scaled(snapshot.cumulativePaidYuan, pct);
  for (const r of snapshot.reports) {
    r.monthInvestmentYuan = scaled(r.monthInvestmentYuan, pct);
    r.ytdInvestmentYuan = scaled(r.ytdInvestmentYuan, pct);
    r.cumulativeInvestmentYuan = scaled(r.cumulativeInvestmentYuan, pct);
    r.fundsReceivedYuan = scaled(r.fundsReceivedYuan, pct);
  }
  for (const p of snapshot.payments) {
    p.amountYuan = scaled(p.amountYuan, pct);
    p.cumulativePaidYuan = scaled(p.cumulativePaidYuan, pct);
  }
  const blockers = tpl.blockers.map((json) => {
    const b = JSON.parse(swap(json)) as Record<string, unknown>;
    b.projectName = d.name;
    for (const k of ['raisedAt', 'closedAt', 'dueAt', 'updatedAt'])
      if (typeof b[k] === 'string') b[k] = new Date(b[k]); // ISO strings in the template's JSON
    return b;
  });
  return { snapshot, blockers };
}

/** Stage of a template (and so of its copies) at instant `t`; undefined if not yet created. */
export function stageAt(tpl: Template, t: number): Stage | undefined {
  if (tpl.createdAt >= t) return undefined;
  let stage: Stage | undefined;
  for (const c of tpl.stageChanges) if (c.at < t) stage = c.stage;
  return stage;
}

export function createSimContext(policy: Policy): SimContext {
  return { policy, calendar: buildWorkCalendar() };
}

// ------------------------------------------------------------------------------------------ the city

/** Templates per stage: in proportion to the stage mix, at least `min` each so rare stages still vary. */
export function templateCounts(total: number, min = 8): Record<TemplateStage, number> {
  const sum = Object.values(STAGE_MIX).reduce((a, b) => a + b, 0);
  const out = {} as Record<TemplateStage, number>;
  for (const [stage, w] of Object.entries(STAGE_MIX) as [TemplateStage, number][])
    out[stage] = Math.max(min, Math.round((total * w) / sum));
  return out;
}

export interface SyntheticProject {
  template: Template;
  variation: CopyVariation;
  snapshot: ProjectSnapshot;
  blockers: Record<string, unknown>[];
}

/** N projects over the policy's special groups and counties, all copies of a pool of driven templates. */
export class SyntheticCity {
  readonly templates: Template[] = [];
  private readonly byStage = new Map<TemplateStage, Template[]>();
  private readonly counties: { id: string; name: string }[];
  private readonly portfolios: string[];

  constructor(
    policy: Policy,
    private readonly seed: number,
    now: number,
    templateTotal: number,
  ) {
    this.counties = policy.organisations.filter((o) => o.kind === 'COUNTY');
    this.portfolios = policy.organisations.filter((o) => o.kind === 'SPECIAL_GROUP').map((o) => o.id);
    const ctx = createSimContext(policy);
    const rng = new Rng(seed);
    for (const [stage, count] of Object.entries(templateCounts(templateTotal)) as [TemplateStage, number][]) {
      const list: Template[] = [];
      for (let i = 0; i < count; i++) {
        const id = `tpl${String(this.templates.length).padStart(5, '0')}q`; // fixed width: never inside another id
        const tpl = driveTemplate(
          ctx,
          rng,
          id,
          stage,
          rng.pick(this.counties).id,
          rng.pick(this.portfolios),
          now,
        );
        list.push(tpl);
        this.templates.push(tpl);
      }
      this.byStage.set(stage, list);
    }
  }

  /** Project number `i` (0-based): the same for the same seed, whatever else was generated before. */
  project(i: number): SyntheticProject {
    const rng = new Rng((this.seed * 1_000_003 + i * 7_919) >>> 0);
    const template = rng.pick(this.byStage.get(rng.weighted(STAGE_MIX)) ?? []);
    const county = rng.pick(this.counties);
    const hex = Math.floor(rng.next() * 0xffffffffff)
      .toString(16)
      .padStart(10, '0');
    const variation: CopyVariation = {
      id: `p${i.toString(16).padStart(6, '0')}${hex}`, // 17 characters like the API's `p` + 16 hex
      county: county.id,
      countyName: county.name,
      portfolio: rng.pick(this.portfolios),
      scalePercent: rng.int(20, 400),
      leader: rng.chance(0.05) ? undefined : rng.pick(LEADERS), // some gaps for the data-quality list
      serial: i + 1,
    };
    return { template, variation, ...copyOf(template, variation) };
  }
}
