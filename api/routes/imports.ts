import { createHash, randomUUID } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { z } from 'zod';
import type { ImportSettings } from '../../config';
import type { ImportJobDoc } from '../../db/models';
import type { Actor } from '../../domain/project';
import { shanghaiDayOf } from '../../calendar';
import {
  DEFAULT_MAX_UNCOMPRESSED_BYTES,
  IMPORT_COLUMNS,
  IMPORT_CONTENT_TYPES,
  ImportFileError,
  importTemplate,
  readSheet,
  validateRows,
  type FileValidation,
} from '../../imports/project-file';
import { sizeInBytes, WorkbookTooLargeError } from '../../imports/workbook-guard';
import type { ApiDeps } from '../app';
import { ApiError } from '../problem';
import { creationRefusal } from '../project-input';
import { refuseUnknownLeaders } from '../project-input';
import { FILE_TYPES, route, type AnyRouteSpec } from '../registry';

export const DEFAULT_IMPORT_SETTINGS: ImportSettings = { maxBytes: '20mb', maxRows: 5000, ratePerSecond: 20 };
const BATCH_SIZE = 50;

const ImportQuery = z.strictObject({
  mode: z
    .enum(['all-or-nothing', 'valid-only'])
    .default('all-or-nothing')
    .describe(
      'all-or-nothing (default): any invalid row and nothing is created; valid-only: the valid rows are',
    ),
  fileName: z.string().trim().min(1).max(200).optional(),
});
const TemplateQuery = z.strictObject({
  format: z.enum(['xlsx', 'csv']).default('xlsx').describe('xlsx (default, with a note per column) or csv'),
});
const ImportIdParams = z.strictObject({
  importId: z.string().regex(/^IMP[0-9a-f]{20}$/, 'invalid import id'),
});

/** Rows as `2, 5, 9 …` for a problem's detail (a file may have thousands). */
function rowList(rows: readonly number[]): string {
  return rows.slice(0, 10).join(', ') + (rows.length > 10 ? ` … (${rows.length} rows)` : '');
}

/**
 * Who may import which rows, as `POST /projects` rules one project: a DRAFT row is created by an applicant for
 * its own organisation; a row with a 入库阶段 only by the organisations of policy `onboarding.organisations`.
 * A file with rows the caller may not create is refused as a whole (403), before anything is stored.
 */
function authoriseRows(actor: Actor, v: FileValidation, onboardingOrgs: readonly string[]): void {
  for (const [kind, rows] of [
    ['ONBOARDED', v.onboardedRows],
    ['DRAFT', v.draftRows],
  ] as const) {
    const refusal = rows.length > 0 ? creationRefusal(actor, kind, onboardingOrgs) : undefined;
    if (refusal)
      throw new ApiError(
        403,
        refusal.slug,
        refusal.title,
        `rows ${rowList(rows)}: ${refusal.detail}. Nothing was imported`,
        {
          rows: rows.slice(0, 100),
          column: '入库阶段',
        },
      );
  }
}

export function importWorkflowId(importId: string): string {
  return `import-${importId}`;
}

/** The project created from one row: a stable id, so a retried batch never creates it twice. */
export function importedProjectId(importId: string, row: number): string {
  return 'P' + createHash('sha256').update(`${importId}\n${row}`).digest('hex').slice(0, 20);
}

function importDto(job: ImportJobDoc, withDetail = true) {
  return {
    importId: job._id,
    status: job.status,
    mode: job.mode,
    fileName: job.fileName,
    fileSha256: job.fileSha256,
    rows: job.rows,
    valid: job.valid,
    invalid: job.invalid,
    toCreate: job.toCreate,
    created: job.created,
    progressPercent: job.toCreate ? Math.floor((job.created * 100) / job.toCreate) : 100,
    ...(withDetail
      ? { problems: job.problems, projects: job.items.map((i) => ({ row: i.row, projectId: i.projectId })) }
      : {}),
    error: job.error,
    createdAt: job.createdAt,
    finishedAt: job.finishedAt,
  };
}

export function importRoutes(deps: ApiDeps): AnyRouteSpec[] {
  const settings = deps.imports ?? DEFAULT_IMPORT_SETTINGS;
  const mayRead = (actor: Actor, job: ImportJobDoc) =>
    job.org === actor.org || actor.roles.some((r) => r === 'supervisor' || r === 'admin');

  /** Starts the import's workflow; its id is the import id, so starting twice is harmless. */
  async function startImport(job: Pick<ImportJobDoc, '_id' | 'toCreate'>): Promise<void> {
    try {
      await deps.projects.client.workflow.start('projectImport', {
        taskQueue: deps.taskQueue,
        workflowId: importWorkflowId(job._id),
        args: [
          {
            importId: job._id,
            rows: job.toCreate,
            batchSize: BATCH_SIZE,
            ratePerSecond: settings.ratePerSecond,
          },
        ],
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
  }

  return [
    route({
      method: 'post',
      path: '/imports',
      summary:
        '批量导入：upload an .xlsx or .csv of projects (the monthly report’s columns, see GET /imports/template); every row is validated as POST /projects validates one, then the projects are created at a bounded rate. Rows without 入库阶段 are DRAFTs of the caller’s organisation (applicants); rows with 入库阶段 储备库/前期库/实施库 onboard a project of their 项目单位 at that stage (policy onboarding.organisations only); a file with rows the caller may not create is refused as a whole (403)',
      tag: 'Projects',
      roles: ['applicant', 'reviewer', 'supervisor'],
      query: ImportQuery,
      upload: {
        contentTypes: Object.keys(IMPORT_CONTENT_TYPES),
        description: 'The spreadsheet; row 1 holds the template’s Chinese headers',
      },
      success: { status: 202, description: 'Accepted; Location names the import, whose progress GET reads' },
      problems: [409, 413, 415, 422],
      idempotent: true,
      handler: async ({ req, res, actor, query }) => {
        const type = (req.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
        const kind = IMPORT_CONTENT_TYPES[type];
        if (!kind || !Buffer.isBuffer(req.body) || req.body.length === 0)
          throw new ApiError(
            415,
            'unsupported-media-type',
            'Unsupported media type',
            `upload the file as ${Object.keys(IMPORT_CONTENT_TYPES).join(' or ')}`,
          );
        const file = req.body;
        const fileSha256 = createHash('sha256').update(file).digest('hex');
        const key = req.get('Idempotency-Key');
        const importId =
          'IMP' +
          createHash('sha256')
            .update(key ? `${actor.org}\n${key}` : randomUUID())
            .digest('hex')
            .slice(0, 20);
        const existing = await deps.models.ImportJob.findById(importId).lean();
        if (existing) {
          if (existing.fileSha256 !== fileSha256)
            throw new ApiError(409, 'conflict', 'Conflict', 'this Idempotency-Key was used for another file');
          // A retry after a crash between storing the job and starting its workflow starts it now.
          if (existing.status === 'RUNNING') await startImport(existing);
          res.location(`/api/v1/imports/${importId}`);
          res.status(existing.status === 'REJECTED' ? 422 : 202).json(importDto(existing));
          return undefined;
        }

        let validation;
        try {
          const maxUncompressed = settings.maxUncompressed
            ? sizeInBytes(settings.maxUncompressed)
            : DEFAULT_MAX_UNCOMPRESSED_BYTES;
          validation = validateRows(await readSheet(file, kind, maxUncompressed), {
            policy: deps.projects.policy,
            orgIndex: deps.orgIndex,
            maxRows: settings.maxRows,
            importerOrg: actor.org,
            today: shanghaiDayOf(Date.now()),
          });
        } catch (err) {
          if (err instanceof WorkbookTooLargeError)
            throw new ApiError(413, 'file-too-large', 'File too large', err.message, {
              limitBytes: err.limitBytes,
            });
          if (err instanceof ImportFileError)
            throw new ApiError(422, 'invalid-file', 'Invalid file', err.message, err.details);
          throw err;
        }
        authoriseRows(actor, validation, deps.projects.policy.onboarding.organisations);
        await refuseUnknownLeaders(validation, deps.models.People);
        const rejected = validation.problems.length > 0 && query.mode === 'all-or-nothing';
        const items = rejected
          ? []
          : validation.valid.map((v) => ({
              row: v.row,
              projectId: importedProjectId(importId, v.row),
              body: v.body,
            }));
        const now = new Date();
        const job: ImportJobDoc = {
          _id: importId,
          org: actor.org,
          actor: actor as unknown as Record<string, unknown>,
          fileName: query.fileName ?? null,
          fileSha256,
          kind,
          mode: query.mode,
          status: rejected ? 'REJECTED' : items.length === 0 ? 'COMPLETED' : 'RUNNING',
          rows: validation.rows,
          valid: validation.valid.length,
          invalid: new Set(validation.problems.map((p) => p.row)).size,
          problems: validation.problems,
          items,
          toCreate: items.length,
          created: 0,
          error: null,
          createdAt: now,
          updatedAt: now,
          finishedAt: rejected || items.length === 0 ? now : null,
        };
        // The job is stored first (its report stays readable), then its workflow starts; the workflow id is the
        // import id, so a retry after a crash between the two cannot start it twice.
        await deps.models.ImportJob.create(job);
        res.location(`/api/v1/imports/${importId}`);
        if (rejected) {
          // Nothing is created: the answer is the report of every row's problems.
          res.status(422).json(importDto(job));
          return undefined;
        }
        if (items.length > 0) await startImport(job);
        return importDto(job);
      },
    }),
    route({
      method: 'get',
      path: '/imports/template',
      summary: `导入模板：the import template (.xlsx or .csv): the Chinese header row (${IMPORT_COLUMNS.length} columns, ${IMPORT_COLUMNS.filter((c) => c.required).length} of them required) and one example row — a 续建 project onboarded in 实施库. Leave 入库阶段 empty for a DRAFT; 已办审批事项 lists the approvals done as 事项|文号|日期|审批机关 entries separated by ";" (事项 by the policy’s name or key); amounts are 万元 with at most 4 decimals`,
      tag: 'Projects',
      roles: ['applicant', 'reviewer', 'supervisor'],
      query: TemplateQuery,
      success: {
        status: 200,
        description: 'A download: the template with its example row',
        json: false,
        files: [FILE_TYPES.xlsx, FILE_TYPES.csv],
      },
      handler: async ({ query, res }) => {
        const file = await importTemplate(query.format, deps.projects.policy);
        const type =
          query.format === 'csv'
            ? 'text/csv; charset=utf-8'
            : 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
        res.type(type).attachment(`项目导入模板.${query.format}`).send(file);
        return undefined;
      },
    }),
    route({
      method: 'get',
      path: '/imports/:importId',
      summary: '导入进度：an import’s status, per-row report and progress',
      tag: 'Projects',
      roles: ['applicant', 'reviewer', 'supervisor', 'admin'],
      params: ImportIdParams,
      success: { status: 200, description: 'The import' },
      problems: [404],
      handler: async ({ actor, params }) => {
        const job = await deps.models.ImportJob.findById(params.importId).lean();
        if (!job || !mayRead(actor, job))
          throw new ApiError(404, 'not-found', 'Not found', `no import ${params.importId}`);
        return importDto(job);
      },
    }),
    route({
      method: 'get',
      path: '/imports',
      summary: '导入记录：the caller’s organisation’s imports, newest first (supervisors and admins: all)',
      tag: 'Projects',
      roles: ['applicant', 'reviewer', 'supervisor', 'admin'],
      success: { status: 200, description: 'Imports without their per-row lists' },
      handler: async ({ actor }) => {
        const all = actor.roles.some((r) => r === 'supervisor' || r === 'admin');
        // The rows and per-row reports stay out of the list (thousands per import); GET /imports/{id} has them.
        const docs = await deps.models.ImportJob.find(all ? {} : { org: actor.org }, {
          items: 0,
          problems: 0,
        }).lean();
        return {
          imports: docs
            .sort((a, b) => new Date(b.createdAt).getTime() - new Date(a.createdAt).getTime())
            .map((d) => importDto({ ...d, items: [], problems: [] }, false)),
        };
      },
    }),
  ];
}
