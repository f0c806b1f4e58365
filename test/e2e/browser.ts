/**
 * Debian's Chromium driven by playwright-core (no browser of its own is ever downloaded), headless, with a fresh
 * user-data directory. Each person signs in in a tab of their own: the console keeps the token per tab.
 */
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function launchBrowser(): Promise<BrowserContext> {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `${CHROMIUM} is missing: run \`node scripts/provision-browser.mjs\` (apt-get install chromium fonts-noto-cjk)`,
    );
  return chromium.launchPersistentContext(mkdtempSync(path.join(tmpdir(), 'pp-chromium-')), {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
    viewport: { width: 1366, height: 768 },
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
    acceptDownloads: true,
  });
}

const screenshotDir = path.resolve(
  process.env.SCREENSHOT_DIR ?? path.join(__dirname, '..', '..', 'test-results', 'console'),
);

/** Saves a screenshot of the page as it is now (every page a scenario visits gets one). */
export async function snap(page: Page, name: string): Promise<string> {
  mkdirSync(screenshotDir, { recursive: true });
  const file = path.join(screenshotDir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

export interface Person {
  org: string;
  orgName: string;
  role: 'applicant' | 'reviewer' | 'leader' | 'supervisor' | 'admin';
  roleLabel: string;
  userId: string;
  name: string;
}

/** Picks an option of an Ant Design select, by the select's label and the option's text. */
export async function choose(page: Page, label: string, option: string): Promise<void> {
  await page.getByLabel(label, { exact: true }).click();
  await page.locator(`.ant-select-dropdown:visible .ant-select-item-option[title="${option}"]`).click();
}

/** Opens a new tab and signs in on the local sign-in page, as a person would. */
export async function signIn(
  context: BrowserContext,
  baseUrl: string,
  who: Person,
  next = '',
): Promise<Page> {
  const page = await context.newPage();
  page.on('pageerror', (err) => {
    throw err;
  });
  await page.goto(`${baseUrl}/sign-in${next ? `?next=${encodeURIComponent(next)}` : ''}`);
  await page.getByText('本地登录', { exact: true }).waitFor();
  await page.getByLabel('单位', { exact: true }).click();
  await page.keyboard.type(who.orgName);
  await page.locator(`.ant-select-dropdown:visible .ant-select-item-option[title="${who.orgName}"]`).click();
  await choose(page, '角色', who.roleLabel);
  await page.getByLabel('用户名', { exact: true }).fill(who.userId);
  await page.getByLabel('姓名', { exact: true }).fill(who.name);
  await page.getByRole('button', { name: /登\s*录/ }).click();
  await page.getByTestId('signed-in-as').waitFor();
  return page;
}
