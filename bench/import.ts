/**
 * Bulk import benchmark: uploads an .xlsx of N generated project rows through the real HTTP API and measures
 * the upload (parse + validate + store), the time until every project workflow has started, and the time
 * until every project is in the read model.
 *
 *   npm run bench:import -- --rows 2000 [--rate 20] [--json FILE]
 */
import { once } from 'node:events';
import { rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { IMPORT_COLUMNS, writeProjectFile } from '../imports/project-file';
import { loadPolicy } from '../policy/load';
import globalSetup from '../test/support/global-setup';
import globalTeardown from '../test/support/global-teardown';
import { startTestSystem, type TestSystem } from '../test/support/harness';
import { testApp, token } from '../test/support/api';

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

function rowOf(i: number): (string | number)[] {
  const cells: Record<string, string | number> = {
    项目名称: `基准导入项目${i}号`,
    '县（市、区）': ['尧都区', '侯马市', '霍州市', '曲沃县'][i % 4]!,
    专项行动: (i % 6) + 1,
    专项推进组: ['sg-infrastructure', 'sg-industry', 'sg-urban', 'sg-livelihood', 'sg-investment'][i % 5]!,
    行业: 'housing',
    责任部门: '市住建局',
    包联领导: 'vm-zhang',
    项目业主: `临汾市建设投资有限公司${i}`,
    投资主体: '国有企业',
    审批类型: ['审批', '核准', '备案'][i % 3]!,
    市级重点: i % 2 ? '是' : '否',
    政府投资: i % 3 === 0 ? '是' : '否',
    涉及用地: '是',
    '年综合能耗（吨标准煤）': 800 + (i % 500),
    '总投资（万元）': `${20000 + i}.25`,
    '年度计划投资（万元）': 5000 + (i % 1000),
    计划开工日期: '2026-04-01',
    计划竣工日期: '2028-06-30',
  };
  return IMPORT_COLUMNS.map((c) => cells[c.header] ?? '');
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { rows: { type: 'string' }, rate: { type: 'string' }, json: { type: 'string' } },
    strict: true,
  });
  const rows = Number(values.rows ?? 2000);
  const rate = Number(values.rate ?? 20);
  if (!Number.isInteger(rows) || rows < 1 || rows > 5000) throw new Error('--rows must be 1..5000');
  if (!Number.isInteger(rate) || rate < 1 || rate > 1000) throw new Error('--rate must be 1..1000');
  console.log(
    `import bench: ${rows} rows, at most ${rate} projects/s; ${os.cpus().length} CPUs, load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  Runtime.install({
    logger: new DefaultLogger('ERROR'),
    telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} } },
  });
  let sys: TestSystem | undefined;
  let server: Server | undefined;
  try {
    await globalSetup();
    sys = await startTestSystem({ policy: loadPolicy() });
    const app = testApp(sys, { imports: { maxBytes: '50mb', maxRows: 5000, ratePerSecond: rate } });
    server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const addr = server.address();
    if (!addr || typeof addr === 'string') throw new Error('no TCP address');
    const base = `http://127.0.0.1:${addr.port}/api/v1`;
    const auth = `Bearer ${await token('bench-importer', 'yaodu', 'applicant')}`;

    let t = performance.now();
    const file = await writeProjectFile(
      'xlsx',
      Array.from({ length: rows }, (_, i) => rowOf(i + 1)),
    );
    const buildMs = performance.now() - t;

    t = performance.now();
    const upload = await fetch(`${base}/imports?fileName=bench.xlsx`, {
      method: 'POST',
      headers: { Authorization: auth, 'Content-Type': XLSX },
      body: file,
    });
    const body = (await upload.json()) as { importId: string; valid: number; invalid: number };
    const uploadMs = performance.now() - t;
    if (upload.status !== 202 || body.valid !== rows)
      throw new Error(`upload answered ${upload.status}: ${JSON.stringify(body).slice(0, 500)}`);

    const startedAt = performance.now();
    let allStartedMs = NaN;
    let peakRss = process.memoryUsage().rss;
    for (;;) {
      const r = (await (
        await fetch(`${base}/imports/${body.importId}`, { headers: { Authorization: auth } })
      ).json()) as {
        status: string;
        created: number;
        error: string | null;
      };
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
      if (r.status === 'FAILED') throw new Error(`import failed: ${r.error}`);
      if (r.status === 'COMPLETED') {
        allStartedMs = performance.now() - startedAt;
        break;
      }
      if (performance.now() - startedAt > 3_600_000) throw new Error(`not done after an hour: ${r.created}`);
      await new Promise((res) => setTimeout(res, 500));
    }
    const running = await sys.client.workflow.count(
      `WorkflowType = 'projectLifecycle' AND ExecutionStatus = 'Running'`,
    );
    if (running.count !== rows)
      throw new Error(`${running.count} running project workflows, expected ${rows}`);

    let inReadModelMs = NaN;
    for (;;) {
      const n = await sys.models.Project.countDocuments({});
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
      if (n >= rows) {
        inReadModelMs = performance.now() - startedAt;
        break;
      }
      if (performance.now() - startedAt > 3_600_000) throw new Error(`only ${n} projects in the read model`);
      await new Promise((res) => setTimeout(res, 1000));
    }

    const result = {
      rows,
      ratePerSecond: rate,
      fileBytes: file.length,
      buildFileSeconds: +(buildMs / 1000).toFixed(2),
      uploadSeconds: +(uploadMs / 1000).toFixed(2),
      allWorkflowsStartedSeconds: +(allStartedMs / 1000).toFixed(1),
      projectsPerSecond: +(rows / (allStartedMs / 1000)).toFixed(1),
      allInReadModelSeconds: +(inReadModelMs / 1000).toFixed(1),
      peakRssMiB: Math.round(peakRss / 1024 / 1024),
      loadAverage: os.loadavg(),
    };
    console.log(
      [
        `file:             ${rows} rows, ${(file.length / 1024).toFixed(0)} KiB (.xlsx, built in ${result.buildFileSeconds} s)`,
        `upload:           POST /imports answered 202 in ${result.uploadSeconds} s (read, validate every row, store)`,
        `workflows:        ${rows} project workflows started ${result.allWorkflowsStartedSeconds} s after the answer (${result.projectsPerSecond}/s; bound ${rate}/s); ${running.count} running`,
        `read model:       all ${rows} projects listed ${result.allInReadModelSeconds} s after the answer`,
        `peak RSS:         ${result.peakRssMiB} MiB (API, worker and bench in one process)`,
      ].join('\n'),
    );
    if (values.json) writeFileSync(values.json, JSON.stringify(result, null, 2));
    return 0;
  } finally {
    server?.close();
    await sys?.close();
    await globalTeardown();
    const dir = process.env.TEST_STACK_DIR;
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
