import { z } from 'zod';
import { ReportingPolicySchema } from '../reports/policy';

const id = z.string().regex(/^[a-z][a-z0-9-]*$/, 'lower-case id: letters, digits, hyphens');

/** A condition over the project record that makes a matter or step required. */
export type Condition =
  | { always: true }
  | { field: ConditionField; equals: string | boolean | number }
  | { field: ConditionField; gte: number }
  | { field: ConditionField; lt: number }
  | { all: Condition[] }
  | { any: Condition[] }
  | { not: Condition };

export const CONDITION_FIELDS = [
  'approvalRegime',
  'investorType',
  'industry',
  'landInvolved',
  'annualEnergyUseTce',
  'totalInvestmentYuan',
  'flags.governmentInvested',
  'flags.provincialKey',
  'flags.cityKey',
  'flags.major',
  'flags.emergency',
  'procurementOnly',
  /** Set while deciding tier 3: the special group recommended the project as a key project (tier 2). */
  'keyRecommended',
] as const;
export type ConditionField = (typeof CONDITION_FIELDS)[number];

export const ConditionSchema: z.ZodType<Condition> = z.lazy(() =>
  z.union([
    z.strictObject({ always: z.literal(true) }),
    z.strictObject({
      field: z.enum(CONDITION_FIELDS),
      equals: z.union([z.string(), z.boolean(), z.number()]),
    }),
    z.strictObject({ field: z.enum(CONDITION_FIELDS), gte: z.number() }),
    z.strictObject({ field: z.enum(CONDITION_FIELDS), lt: z.number() }),
    z.strictObject({ all: z.array(ConditionSchema).min(1) }),
    z.strictObject({ any: z.array(ConditionSchema).min(1) }),
    z.strictObject({ not: ConditionSchema }),
  ]),
);

/** A duration: working days (the default for 限时办结), calendar days, the next monthly meeting, or seconds (test policies). */
export const DurationSchema = z.union([
  z.strictObject({ workingDays: z.number().int().min(0).max(3660) }),
  z.strictObject({ calendarDays: z.number().int().min(0).max(3660) }),
  z.strictObject({ seconds: z.number().int().min(0).max(31_536_000) }),
  z.strictObject({ nextMonthlyMeeting: z.literal(true) }),
]);
export type Duration = z.infer<typeof DurationSchema>;

const OrgKind = z.enum(['DEPARTMENT', 'SPECIAL_GROUP', 'LEADING_GROUP', 'COUNTY', 'SUPERVISION', 'OWNER']);

export const OrganisationSchema = z.strictObject({
  id,
  name: z.string().min(1),
  kind: OrgKind,
  /** Special groups: the vice-mayor in charge; leading group: the mayor. */
  head: z.string().optional(),
  portfolio: z.string().optional(),
});

const WorkItemSchema = z.strictObject({
  key: z.string().regex(/^[A-Z][A-Z0-9_]*$/),
  name: z.string().min(1),
  /** An org id, or "OWNER" / "RESPONSIBLE_DEPT" for the project's own units. */
  assignee: z.string().min(1),
  requiredWhen: ConditionSchema,
  deadline: DurationSchema,
  /** Completing this item records the approved estimate (概算) that caps payments. */
  recordsApprovedEstimate: z.boolean().default(false),
});
export type WorkItem = z.infer<typeof WorkItemSchema>;

const RecipientSchema = z.enum([
  'ASSIGNEE',
  'ASSIGNEE_HEAD',
  'ASSIGNED_LEADER',
  'SPECIAL_GROUP',
  'LEADING_GROUP',
  'MONTHLY_BULLETIN',
  'CITY_SUPERVISION',
]);

const hour = z.number().int().min(0).max(23);
// Day 28 at most: a schedule on the 29th–31st would skip the months that lack it.
const dayOfMonth = z.number().int().min(1).max(28);

/**
 * When the supervision jobs run (Asia/Shanghai). The seed gives the cadences — month-end dispatch (may be
 * postponed), quarterly adjustment and 通报, yearly assessment; the days and hours are ours (see `sources`).
 * The quarterly jobs run in the first month of each quarter for the quarter just ended; the assessment in
 * `month` of the year after the year it assesses.
 */
export const SupervisionPolicySchema = z.strictObject({
  dispatch: z
    .strictObject({
      /** 月底: the last working day of the month on the work calendar (a postponement moves one month's). */
      day: z.enum(['LAST_WORKING_DAY']).default('LAST_WORKING_DAY'),
      hour: hour.default(16),
    })
    .prefault({}),
  adjustment: z.strictObject({ dayOfMonth: dayOfMonth.default(5), hour: hour.default(9) }).prefault({}),
  bulletin: z.strictObject({ dayOfMonth: dayOfMonth.default(10), hour: hour.default(9) }).prefault({}),
  assessment: z
    .strictObject({
      month: z.number().int().min(1).max(12).default(1),
      dayOfMonth: dayOfMonth.default(15),
      hour: hour.default(9),
    })
    .prefault({}),
});
export type SupervisionPolicy = z.infer<typeof SupervisionPolicySchema>;

/**
 * Where a rule of the policy comes from: the seed document, a law (named, with its article), or our own
 * default. Keyed by the rule's path (`reserve.matters.EIA.deadline`, `time.escalation.1.after`; list items by
 * their `key` or `level`; `formulas.<name>` for the report formulas); an entry covers everything below its
 * path. policy/sources.ts lists the rules and checks that each has one.
 */
export const RuleSourceSchema = z.discriminatedUnion('source', [
  z.strictObject({ source: z.literal('seed'), note: z.string().min(1).optional() }),
  z.strictObject({ source: z.literal('law'), law: z.string().min(1), note: z.string().min(1).optional() }),
  z.strictObject({ source: z.literal('default'), note: z.string().min(1).optional() }),
]);
export type RuleSource = z.infer<typeof RuleSourceSchema>;
export const RULE_PATH = /^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$/;

export const PolicySchema = z
  .strictObject({
    version: z.string().regex(/^\d{4}\.\d+(\.\d+)?$/, 'version like 2025.1'),
    title: z.string(),
    organisations: z.array(OrganisationSchema).min(1),
    leadingGroup: id,
    citySupervision: id,
    /** Receives system alerts (provisional deadlines, failing channels, calendar gaps). */
    administrators: id,
    planInclusionOrg: id,
    review: z.strictObject({
      tier1: z.strictObject({
        always: z.array(id).min(1),
        whenLandInvolved: z.array(id),
        byIndustry: z.record(z.string(), z.array(id)),
        deadline: DurationSchema,
        /** The departments the seed names for 初审 (财政、发改、水利、住建、交通、审批、城管、规划和自然资源"等部门"). */
        seedScreeners: z.array(id).optional(),
        /** Why the lists above narrow the seed's (a department screens the projects within its remit). */
        narrowing: z.string().optional(),
      }),
      tier2: z.strictObject({ deadline: DurationSchema }),
      tier3: z.strictObject({ appliesWhen: ConditionSchema, deadline: DurationSchema }),
      planInclusionDeadline: DurationSchema,
    }),
    reserve: z.strictObject({
      matters: z.array(WorkItemSchema).min(1),
      staleAfterMonths: z.number().int().min(1).max(120),
      /** Test policies may state staleness in seconds; production uses months. */
      staleAfterSeconds: z.number().int().positive().optional(),
    }),
    preConstruction: z.strictObject({ steps: z.array(WorkItemSchema).min(1) }),
    startGate: z.strictObject({
      permitStep: z.string(),
      contractStep: z.string(),
      /** Confirms construction funds (建设资金落实) of government-invested projects; owners confirm their own otherwise. */
      fundingConfirmer: id,
      deadline: DurationSchema,
      /** Who makes the 开工条件核查 (never the owner): the responsible department or an organisation. */
      checker: z.union([z.literal('RESPONSIBLE_DEPT'), id]).optional(),
      /** How long the checker has for one start application. */
      checkDeadline: DurationSchema.optional(),
      /** Who approves an emergency project's exception from the gate (应急类等特殊项目). */
      emergencyExceptionApprover: id.optional(),
      /** Pre-construction steps that must be done before the start, e.g. the 社会稳定风险评估 (风险预控). */
      preconditions: z.array(z.string()).optional(),
    }),
    implementation: z.strictObject({
      completionDeadline: DurationSchema,
      monthlyReportDueDay: z.number().int().min(1).max(28),
      /**
       * Projects without a 概算批复 that pay against their total investment instead (民间投资项目参照管理: the seed has
       * private projects managed by reference, without forcing an estimate approval they cannot have).
       */
      capWithoutEstimate: ConditionSchema.optional(),
      /** Test policies: a "month" of the report obligation lasts this many seconds. */
      monthlyReportCycleSeconds: z.number().int().positive().optional(),
    }),
    /** Change requests of the facts others rely on (年度计划调整): who decides them (default 市发改委), how fast. */
    revisions: z
      .strictObject({
        changeApprover: id.optional(),
        changeRequestDeadline: DurationSchema.default({ workingDays: 10 }),
      })
      .prefault({}),
    /** The expert pool of 专业评审 (专家库): the fields experts are admitted in, and the term of one 届. */
    experts: z
      .strictObject({
        fields: z.array(z.string().min(1)).min(1),
        termYears: z.number().int().min(1).max(10),
      })
      .optional(),
    /**
     * Funding source types (资金来源) a project records and the joint meeting allocates; `higherLevel` marks the
     * higher-level and policy funds that count as 资金争取 (never an owner's own money).
     */
    funding: z
      .strictObject({
        sourceTypes: z.record(
          z.string().regex(/^[A-Z][A-Z0-9_]*$/),
          z.strictObject({ label: z.string().min(1), higherLevel: z.boolean() }),
        ),
      })
      .optional(),
    /** Who may enter a project beyond DRAFT at the stage where it stands (存量项目入库). */
    onboarding: z.strictObject({ organisations: z.array(id) }).prefault({ organisations: [] }),
    /** Report weights, red/black list sizes and portfolio targets (every field has a default; see FORMULAS). */
    reporting: ReportingPolicySchema.prefault({}),
    /** Blockers (堵点): the time the responsible organisation has to solve one, by level (三级联动). */
    blockers: z
      .strictObject({
        deadline: z.strictObject({ COUNTY: DurationSchema, CITY: DurationSchema, PROVINCE: DurationSchema }),
      })
      .optional(),
    /** The days the supervision jobs run (every field has a default: today's calendar). */
    supervision: SupervisionPolicySchema.prefault({}),
    /** Each rule's source (seed / law / default), so a reader can tell the seed's rules from ours. */
    sources: z.record(z.string().regex(RULE_PATH, 'a dotted rule path'), RuleSourceSchema).optional(),
    time: z.strictObject({
      uncoveredYear: z.enum(['refuse', 'provisional']),
      greenChannelPercent: z.number().int().min(10).max(100),
      remindAtHour: z.number().int().min(0).max(23),
      reminders: z.array(DurationSchema),
      escalation: z
        .array(
          z.strictObject({
            level: z.number().int().min(1).max(9),
            after: DurationSchema,
            recipients: z.array(RecipientSchema).min(1),
            label: z.string(),
          }),
        )
        .min(1),
      extensions: z.strictObject({
        maxPerTask: z.number().int().min(0),
        maxWorkingDays: z.number().int().min(1),
      }),
    }),
  })
  .superRefine((p, ctx) => {
    const orgIds = new Set(p.organisations.map((o) => o.id));
    const ref = (value: string, path: (string | number)[]) => {
      if (!orgIds.has(value))
        ctx.addIssue({ code: 'custom', message: `unknown organisation "${value}"`, path });
    };
    if (orgIds.size !== p.organisations.length)
      ctx.addIssue({ code: 'custom', message: 'duplicate organisation id', path: ['organisations'] });
    ref(p.leadingGroup, ['leadingGroup']);
    ref(p.citySupervision, ['citySupervision']);
    ref(p.administrators, ['administrators']);
    ref(p.planInclusionOrg, ['planInclusionOrg']);
    ref(p.startGate.fundingConfirmer, ['startGate', 'fundingConfirmer']);
    if (p.revisions.changeApprover) ref(p.revisions.changeApprover, ['revisions', 'changeApprover']);
    p.onboarding.organisations.forEach((o, i) => ref(o, ['onboarding', 'organisations', i]));
    p.review.tier1.always.forEach((o, i) => ref(o, ['review', 'tier1', 'always', i]));
    p.review.tier1.whenLandInvolved.forEach((o, i) => ref(o, ['review', 'tier1', 'whenLandInvolved', i]));
    p.review.tier1.seedScreeners?.forEach((o, i) => ref(o, ['review', 'tier1', 'seedScreeners', i]));
    for (const [k, list] of Object.entries(p.review.tier1.byIndustry))
      list.forEach((o, i) => ref(o, ['review', 'tier1', 'byIndustry', k, i]));
    for (const [section, items] of [
      [['reserve', 'matters'], p.reserve.matters],
      [['preConstruction', 'steps'], p.preConstruction.steps],
    ] as const) {
      const keys = new Set<string>();
      items.forEach((m, i) => {
        if (keys.has(m.key))
          ctx.addIssue({ code: 'custom', message: `duplicate key ${m.key}`, path: [...section, i, 'key'] });
        keys.add(m.key);
        if (m.assignee !== 'OWNER' && m.assignee !== 'RESPONSIBLE_DEPT')
          ref(m.assignee, [...section, i, 'assignee']);
      });
    }
    const stepKeys = new Set(p.preConstruction.steps.map((s) => s.key));
    if (!stepKeys.has(p.startGate.permitStep))
      ctx.addIssue({
        code: 'custom',
        message: 'permitStep is not a step',
        path: ['startGate', 'permitStep'],
      });
    (p.startGate.preconditions ?? []).forEach((k, i) => {
      if (!stepKeys.has(k))
        ctx.addIssue({
          code: 'custom',
          message: `${k} is not a step`,
          path: ['startGate', 'preconditions', i],
        });
    });
    if (p.startGate.checker && p.startGate.checker !== 'RESPONSIBLE_DEPT')
      ref(p.startGate.checker, ['startGate', 'checker']);
    if (p.startGate.emergencyExceptionApprover)
      ref(p.startGate.emergencyExceptionApprover, ['startGate', 'emergencyExceptionApprover']);
    if (!stepKeys.has(p.startGate.contractStep))
      ctx.addIssue({
        code: 'custom',
        message: 'contractStep is not a step',
        path: ['startGate', 'contractStep'],
      });
    for (const o of p.organisations)
      if (o.kind === 'SPECIAL_GROUP' && !o.portfolio)
        ctx.addIssue({
          code: 'custom',
          message: `special group ${o.id} needs a portfolio`,
          path: ['organisations'],
        });
  });

export type Policy = z.infer<typeof PolicySchema>;
export type Organisation = z.infer<typeof OrganisationSchema>;
