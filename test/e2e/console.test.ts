/**
 * The console in a real browser (Debian's Chromium) against the stack as `npm start` starts it: people sign in on
 * the local sign-in page and do their work through the pages; the API confirms what changed (and what did not).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import type { BrowserContext, Page } from 'playwright-core';
import { buildLikeNpmStart, startStack, type RunningStack } from './stack';
import { launchBrowser, signIn, snap, choose, type Person } from './browser';
import { secondsPolicy } from '../support/policies';
import { CREATE_PROJECT_EXAMPLES } from '../../api/schemas';

jest.setTimeout(900_000);

const ROLE_LABELS = {
  applicant: '项目单位',
  reviewer: '审核部门',
  leader: '专项推进组 / 领导小组',
  supervisor: '督查 / 项目办',
  admin: '管理员',
} as const;

let stack: RunningStack;
let browser: BrowserContext;
let orgNames: Map<string, string>;

/** A token from the same local sign-in the console uses, for checking through the API what a page did. */
async function apiAs(org: string, role: Person['role']) {
  const res = await fetch(`${stack.baseUrl}/api/v1/session/local`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ org, role, userId: `check-${org}`, name: '核对' }),
  });
  const { token } = (await res.json()) as { token: string };
  const call = async <T>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }> => {
    const r = await fetch(`${stack.baseUrl}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : null,
    });
    return { status: r.status, body: (await r.json()) as T };
  };
  return {
    get: <T>(path: string) => call<T>('GET', path),
    post: <T>(path: string, body?: unknown) => call<T>('POST', path, body),
    put: <T>(path: string, body: unknown) => call<T>('PUT', path, body),
  };
}

function person(org: string, role: Person['role'], userId: string, name: string): Person {
  return { org, orgName: orgNames.get(org) ?? org, role, roleLabel: ROLE_LABELS[role], userId, name };
}

interface ProjectBody {
  stage: string;
  state: { round: number; reports: unknown[]; revisions?: unknown[] };
  openTasks: { id: string; assigneeOrg: string; tier?: number }[];
  details: { name: string };
}

const SCREENING = ['ndrc', 'finance', 'approval-bureau', 'natural-resources', 'housing'];

beforeAll(async () => {
  // E2E_SKIP_BUILD=1 reuses dist/ and console/dist/ while iterating on the tests themselves.
  if (process.env.E2E_SKIP_BUILD !== '1') buildLikeNpmStart();
  // Every deadline in seconds: tasks run overdue within the test, as they do over weeks in a city.
  stack = await startStack(secondsPolicy(45));
  browser = await launchBrowser();
  const config = (await (await fetch(`${stack.baseUrl}/api/v1/session/config`)).json()) as {
    organisations: { id: string; name: string }[];
  };
  orgNames = new Map(config.organisations.map((o) => [o.id, o.name]));
});

// What every open tab showed when a test ended: the first thing to look at when one fails.
afterEach(async () => {
  const name =
    expect
      .getState()
      .currentTestName?.slice(0, 40)
      .replace(/[^\p{L}\p{N}]+/gu, '-') ?? 'test';
  for (const [i, page] of browser.pages().entries()) {
    await snap(page, `end-${name}-${i}`).catch(() => undefined);
    await page.close().catch(() => undefined);
  }
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

async function fillProjectForm(page: Page, name: string, totalWan: string): Promise<void> {
  await page.getByLabel('项目名称', { exact: true }).fill(name);
  await page.getByLabel('县（市、区）', { exact: true }).click();
  await page.keyboard.type('尧都');
  await page.locator('.ant-select-dropdown:visible .ant-select-item-option[title="尧都区"]').click();
  await choose(page, '专项活动', '3. 城市双品质');
  await choose(page, '专项推进组', orgNames.get('sg-urban')!);
  await choose(page, '行业', '住建');
  await page.getByLabel('行业主管部门（责任单位）', { exact: true }).click();
  await page.keyboard.type('住建');
  await page
    .locator(`.ant-select-dropdown:visible .ant-select-item-option[title="${orgNames.get('housing')}"]`)
    .click();
  await page.getByLabel('项目单位', { exact: true }).fill('临汾市热力有限公司');
  await page.getByRole('radio', { name: '是' }).check();
  await page.getByLabel('总投资（万元）', { exact: true }).fill(totalWan);
  await page.getByLabel('年度计划投资（万元）', { exact: true }).fill('12000');
}

/** Opens the inbox, then the project's task, and decides it. */
async function decideInInbox(
  page: Page,
  projectName: string,
  decision: '通过' | '退回修改',
  opinion: string,
  shot?: string,
) {
  await page.getByRole('link', { name: '待办', exact: true }).click();
  const table = page.getByTestId('inbox-table');
  await table.getByRole('link', { name: projectName }).click();
  await page.getByTestId('decision-card').waitFor();
  await page.getByTestId('decision-card').locator('label').filter({ hasText: decision }).first().click();
  await page.getByLabel('审核意见', { exact: true }).fill(opinion);
  if (shot) await snap(page, shot);
  await page.getByRole('button', { name: '提交审核结论' }).click();
  await page.waitForURL('**/inbox');
}

test('an applicant creates and submits a project (a bad figure first), each screening department decides in its own inbox, another department is refused, and the supervisor sees every step', async () => {
  const owner = await signIn(browser, stack.baseUrl, person('yaodu', 'applicant', 'wang.li', '王丽'));
  await snap(owner, 'applicant-projects');
  const ownerApi = await apiAs('yaodu', 'applicant');
  const before = (await ownerApi.get<{ projects: unknown[] }>('/projects?limit=200')).body.projects.length;

  await owner.getByRole('link', { name: '新建项目' }).first().click();
  const name = '临汾市城区供热管网改造工程（控制台）';
  await fillProjectForm(owner, name, '-5');
  await owner.getByRole('button', { name: '保存并提交初审' }).click();
  // The API's field error, beside the field, in Chinese; nothing was created.
  const totalItem = owner
    .locator('.ant-form-item')
    .filter({ has: owner.getByLabel('总投资（万元）', { exact: true }) });
  await totalItem.locator('.ant-form-item-explain-error').first().waitFor();
  expect(await totalItem.locator('.ant-form-item-explain-error').first().textContent()).toMatch(/数值过小/);
  await snap(owner, 'form-with-error');
  expect((await ownerApi.get<{ projects: unknown[] }>('/projects?limit=200')).body.projects.length).toBe(
    before,
  );

  await owner.getByLabel('总投资（万元）', { exact: true }).fill('35000');
  await owner.getByRole('button', { name: '保存并提交初审' }).click();
  await owner.waitForURL(/\/projects\/P[0-9a-f]+$/);
  const projectId = owner.url().split('/').pop()!;
  await owner.getByText('部门初审', { exact: true }).first().waitFor();
  await snap(owner, 'applicant-project-submitted');

  const submitted = (await ownerApi.get<ProjectBody>(`/projects/${projectId}`)).body;
  expect(submitted.stage).toBe('DEPT_SCREENING');
  expect(submitted.openTasks.map((t) => t.assigneeOrg).sort()).toEqual([...SCREENING].sort());

  // A reviewer of another department: no inbox entry, and a direct link shows 无权访问.
  const outsider = await signIn(browser, stack.baseUrl, person('ecology', 'reviewer', 'zhao.qiang', '赵强'));
  await outsider.getByTestId('inbox-table').waitFor();
  expect(await outsider.getByTestId('inbox-table').getByText(name).count()).toBe(0);
  await outsider.goto(`${stack.baseUrl}/tasks/${encodeURIComponent(`${projectId}~R1-T1-ndrc`)}`);
  await outsider.getByText('无权访问').waitFor();
  await snap(outsider, 'reviewer-refused');

  for (const [i, org] of SCREENING.entries()) {
    const reviewer = await signIn(
      browser,
      stack.baseUrl,
      person(org, 'reviewer', `rev.${org}`, `审核员${i + 1}`),
    );
    if (i === 0) {
      await reviewer.getByTestId('inbox-table').getByText(name).waitFor();
      await snap(reviewer, 'inbox');
    }
    await decideInInbox(
      reviewer,
      name,
      '通过',
      `${orgNames.get(org)}初审同意`,
      i === 0 ? 'task-decision' : undefined,
    );
    await reviewer.close();
  }
  const screened = (await ownerApi.get<ProjectBody>(`/projects/${projectId}`)).body;
  expect(screened.stage).toBe('SPECIALIST_REVIEW');

  const supervisor = await signIn(
    browser,
    stack.baseUrl,
    person('project-center', 'supervisor', 'li.jian', '李建'),
  );
  await supervisor.waitForURL('**/supervision/dashboard');
  await supervisor.getByText('谋划').first().waitFor();
  await supervisor.waitForTimeout(1500); // the charts animate in
  await snap(supervisor, 'dashboard');
  await supervisor.goto(`${stack.baseUrl}/projects/${projectId}?tab=timeline`);
  const timeline = supervisor.getByTestId('timeline');
  await timeline.waitFor();
  await expect(timeline.getByText('提交初审').count()).resolves.toBeGreaterThanOrEqual(1);
  await expect(timeline.getByText('评审决定').count()).resolves.toBe(SCREENING.length);
  for (const org of SCREENING)
    await timeline
      .getByText(`${orgNames.get(org)}初审同意`)
      .first()
      .waitFor();
  await snap(supervisor, 'project-timeline');
});

test('a RETURN: the owner edits beside the reviewer’s opinion and resubmits', async () => {
  const ownerApi = await apiAs('yaodu', 'applicant');
  const name = '临汾市汾河东路雨污分流工程';
  const created = await ownerApi.post<{ projectId: string }>('/projects', {
    name,
    county: 'yaodu',
    specialActivity: 3,
    portfolio: 'sg-urban',
    industry: 'housing',
    responsibleDept: 'housing',
    ownerOrg: 'yaodu',
    ownerName: '临汾市排水有限公司',
    investorType: 'SOE',
    approvalRegime: 'APPROVAL',
    landInvolved: false,
    annualEnergyUseTce: 300,
    totalInvestmentYuan: 180_000_000,
    annualPlanYuan: 60_000_000,
  });
  expect(created.status).toBe(201);
  const projectId = created.body.projectId;
  expect((await ownerApi.post(`/projects/${projectId}/submit`)).status).toBeLessThan(300);

  const reviewer = await signIn(browser, stack.baseUrl, person('ndrc', 'reviewer', 'rev.ndrc', '李明'));
  const opinion = '请补充管网走向图和资金来源说明';
  await decideInInbox(reviewer, name, '退回修改', opinion);
  expect((await ownerApi.get<ProjectBody>(`/projects/${projectId}`)).body.stage).toBe('DRAFT');

  const owner = await signIn(
    browser,
    stack.baseUrl,
    person('yaodu', 'applicant', 'wang.li', '王丽'),
    `/projects/${projectId}`,
  );
  await owner.getByRole('button', { name: /修\s*改/ }).click();
  const opinions = owner.getByTestId('return-opinions');
  await opinions.getByText(opinion).waitFor();
  await snap(owner, 'edit-after-return');
  await owner.getByLabel('项目名称', { exact: true }).fill(`${name}（补充走向图）`);
  await owner.getByLabel('修改说明', { exact: true }).fill('按市发改委意见补充管网走向图和资金来源');
  await owner.getByRole('button', { name: '保存并重新提交' }).click();
  await owner.waitForURL(new RegExp(`/projects/${projectId}$`));
  const resubmitted = (await ownerApi.get<ProjectBody>(`/projects/${projectId}`)).body;
  expect(resubmitted.stage).toBe('DEPT_SCREENING');
  expect(resubmitted.state.round).toBe(2);
  expect(resubmitted.details.name).toBe(`${name}（补充走向图）`);
});

test('a monthly report lower than last month’s shows the API’s error beside the field and changes nothing', async () => {
  const office = await apiAs('project-center', 'supervisor');
  const { assignedLeader: _leader, ...onboarded } = CREATE_PROJECT_EXAMPLES.underConstruction.value;
  const created = await office.post<{ projectId: string }>('/projects', onboarded);
  expect(created.status).toBe(201);
  const projectId = created.body.projectId;

  const owner = await signIn(
    browser,
    stack.baseUrl,
    person('yaodu', 'applicant', 'wang.li', '王丽'),
    `/projects/${projectId}`,
  );
  await owner.getByRole('button', { name: '填报月度进度' }).click();
  await owner.getByTestId('last-month').waitFor();
  await owner.getByLabel('本年累计完成投资（万元）', { exact: true }).fill('100');
  await owner.getByLabel('开工累计完成投资（万元）', { exact: true }).fill('100');
  await owner.getByLabel('累计到位资金（万元）', { exact: true }).fill('100');
  await owner.getByLabel('形象进度', { exact: true }).fill('主线桥梁施工');
  await owner.getByRole('button', { name: /报\s*送/ }).click();
  const item = owner
    .locator('.ant-form-item')
    .filter({ has: owner.getByLabel('开工累计完成投资（万元）', { exact: true }) });
  await item.locator('.ant-form-item-explain-error').first().waitFor();
  expect(await item.locator('.ant-form-item-explain-error').first().textContent()).toMatch(
    /cannot decrease|不能/,
  );
  await snap(owner, 'progress-report-error');
  const ownerApi = await apiAs('yaodu', 'applicant');
  expect((await ownerApi.get<ProjectBody>(`/projects/${projectId}`)).body.state.reports).toHaveLength(0);
});

test('an expired session returns to sign-in, and back to the page one was on', async () => {
  const owner = await signIn(browser, stack.baseUrl, person('yaodu', 'applicant', 'wang.li', '王丽'));
  await owner.goto(`${stack.baseUrl}/projects?library=实施`);
  await owner.getByTestId('projects-table').waitFor();
  // The token runs out while the tab is open: the next call answers 401.
  await owner.evaluate(
    "sessionStorage.setItem('project-pipeline.token', 'e30.eyJzdWIiOiJ4Iiwib3JnIjoieWFvZHUiLCJyb2xlcyI6WyJhcHBsaWNhbnQiXSwiZXhwIjo0MTAyNDQ0ODAwfQ.x')",
  );
  await owner.reload();
  await owner.waitForURL(/\/sign-in\?next=/);
  await owner.getByText('登录已失效，请重新登录').waitFor();
  expect(decodeURI(new URL(owner.url()).searchParams.get('next') ?? '')).toBe('/projects?library=实施');
  expect(await owner.evaluate("sessionStorage.getItem('project-pipeline.token')")).toBeNull();
  await snap(owner, 'sign-in-expired');
  // Signing in again lands on that page.
  await owner.getByLabel('单位', { exact: true }).click();
  await owner.keyboard.type('尧都');
  await owner.locator('.ant-select-dropdown:visible .ant-select-item-option[title="尧都区"]').click();
  await choose(owner, '角色', '项目单位');
  await owner.getByLabel('用户名', { exact: true }).fill('wang.li');
  await owner.getByLabel('姓名', { exact: true }).fill('王丽');
  await owner.getByRole('button', { name: /登\s*录/ }).click();
  await owner.waitForURL((u) => u.pathname === '/projects' && u.searchParams.get('library') === '实施');
  // Signing out clears the token.
  await owner.getByRole('button', { name: /退\s*出/ }).click();
  await owner.waitForURL(/\/sign-in/);
  expect(await owner.evaluate("sessionStorage.getItem('project-pipeline.token')")).toBeNull();
});

test('the supervisor downloads the overdue list as xlsx, and it holds the rows shown on screen', async () => {
  const supervisor = await signIn(
    browser,
    stack.baseUrl,
    person('project-center', 'supervisor', 'li.jian', '李建'),
  );
  await supervisor.goto(`${stack.baseUrl}/supervision/overdue`);
  const table = supervisor.getByTestId('overdue-table');
  // The earlier scenarios' tasks run past their 45-second deadlines.
  const rows = table.locator('tbody tr.ant-table-row');
  for (let i = 0; i < 60 && (await rows.count()) === 0; i++) {
    await supervisor.waitForTimeout(3000);
    await supervisor.reload();
    await table.waitFor();
  }
  expect(await rows.count()).toBeGreaterThan(0);
  await snap(supervisor, 'overdue-list');
  const onScreen = (await rows.locator('td:first-child').allTextContents()).map((t) => t.trim()).sort();

  const [download] = await Promise.all([
    supervisor.waitForEvent('download'),
    supervisor.getByRole('button', { name: /导出\s*Excel/ }).click(),
  ]);
  expect(download.suggestedFilename()).toMatch(/\.xlsx$/);
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.readFile(await download.path());
  const sheet = workbook.worksheets[0]!;
  let nameColumn = 0;
  let headerRow = 0;
  sheet.eachRow((row, r) => {
    if (headerRow) return;
    row.eachCell((cell, c) => {
      if (cell.text.trim() === '项目名称') [headerRow, nameColumn] = [r, c];
    });
  });
  expect(headerRow).toBeGreaterThan(0);
  const inFile: string[] = [];
  for (let r = headerRow + 1; r <= sheet.rowCount; r++) {
    const v = sheet.getRow(r).getCell(nameColumn).text.trim();
    if (v && !/合计|总计/.test(v)) inFile.push(v);
  }
  expect(inFile.sort()).toEqual(onScreen);
});

test('an import of projects already under way shows its progress to the end', async () => {
  const office = await apiAs('project-center', 'supervisor');
  // The template's example row: a 续建 project onboarded in 实施库, as the office enters one.
  const signed = await fetch(`${stack.baseUrl}/api/v1/session/local`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ org: 'project-center', role: 'supervisor', userId: 'li.jian', name: '李建' }),
  });
  const { token } = (await signed.json()) as { token: string };
  const template = await fetch(`${stack.baseUrl}/api/v1/imports/template?format=xlsx`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'pp-import-')), '存量项目.xlsx');
  writeFileSync(file, Buffer.from(await template.arrayBuffer()));

  const supervisor = await signIn(
    browser,
    stack.baseUrl,
    person('project-center', 'supervisor', 'li.jian', '李建'),
  );
  const importFile = async () => {
    await supervisor.getByRole('link', { name: '存量项目导入' }).click();
    await supervisor.locator('input[type=file]').setInputFiles(file);
    await supervisor.getByRole('button', { name: '开始导入' }).click();
    await supervisor.waitForURL(/\/imports\/IMP/);
  };
  // Its 包联领导 is not in this city's directory yet: the row is refused, the page says why, nothing is created.
  await importFile();
  await supervisor.getByText('未通过校验').waitFor();
  await supervisor
    .getByText(/vm-zhang/)
    .first()
    .waitFor();
  await snap(supervisor, 'import-refused');
  const admin = await apiAs('ndrc', 'admin');
  const added = await admin.put('/people/vm-zhang', {
    name: '张伟',
    post: '副市长',
    org: 'sg-urban',
    headOf: [],
    channels: { emails: [], webhooks: [] },
  });
  expect(added.status).toBe(200);
  // Once the leader is known, the same file imports.
  await importFile();
  await supervisor.getByText('已完成').waitFor({ timeout: 60_000 });
  expect(await supervisor.getByRole('progressbar').getAttribute('aria-valuenow')).toBe('100');
  await snap(supervisor, 'import-progress');
  const importId = supervisor.url().split('/').pop()!;
  const job = (await office.get<{ status: string; created: number }>(`/imports/${importId}`)).body;
  expect(job).toMatchObject({ status: 'COMPLETED', created: 1 });
});

test('on a tablet the menu folds into a drawer and the pages stay usable', async () => {
  const reviewer = await signIn(
    browser,
    stack.baseUrl,
    person('finance', 'reviewer', 'rev.finance', '审核员'),
  );
  await reviewer.setViewportSize({ width: 820, height: 1180 });
  await reviewer.getByRole('button', { name: '打开菜单' }).click();
  await reviewer.getByRole('link', { name: '项目', exact: true }).click();
  await reviewer.getByTestId('projects-table').waitFor();
  await snap(reviewer, 'tablet-projects');
  // Nothing wider than the screen but the table's own scroll.
  const overflow = await reviewer.evaluate('document.documentElement.scrollWidth - window.innerWidth');
  expect(overflow).toBeLessThanOrEqual(0);
});
