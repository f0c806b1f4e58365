import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { stackEnv } from '../support/harness';

const root = path.join(__dirname, '..', 'fixtures', 'histories');
const fixtures = readdirSync(root, { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.json'))
  .sort();

test('replay fixtures exist for the key lifecycle paths', () => {
  expect(fixtures.length).toBeGreaterThanOrEqual(3);
});

// Histories recorded from earlier workflow code must replay through the current code without a
// non-determinism error; a change to running workflows that is not behind patched() fails here.
test.each(fixtures)('recorded history %s replays through the current workflow code', async (file) => {
  const history = JSON.parse(readFileSync(path.join(root, file), 'utf8')) as unknown;
  await Worker.runReplayHistory(
    { workflowBundle: { codePath: stackEnv().bundle } },
    history,
    `replay-${file}`,
  );
});
