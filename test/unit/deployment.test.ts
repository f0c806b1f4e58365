import { readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { EnvSchema, loadConfig } from '../../config';

const compose = YAML.parse(readFileSync(path.join(__dirname, '..', '..', 'docker-compose.yml'), 'utf8')) as {
  services: Record<
    string,
    {
      image?: string;
      build?: unknown;
      command?: string[];
      environment?: Record<string, string>;
      volumes?: string[];
    }
  >;
};
const configKeys = new Set(Object.keys(EnvSchema.shape));

test('docker-compose runs Temporal on PostgreSQL with its UI, MongoDB 7, and the worker and API from one build', () => {
  const s = compose.services;
  expect(s.temporal?.image).toMatch(/^temporalio\/auto-setup:/);
  expect(s.temporal?.environment?.DB).toMatch(/^postgres/);
  // The dynamic config the local dev server also runs with (eager activities), from a file in the repository.
  const dynamicConfig = YAML.parse(
    readFileSync(path.join(__dirname, '..', '..', 'infra', 'temporal', 'dynamicconfig.yaml'), 'utf8'),
  ) as Record<string, { value: unknown }[]>;
  expect(dynamicConfig['system.enableActivityEagerExecution']?.[0]?.value).toBe(true);
  expect(s.temporal?.environment?.DYNAMIC_CONFIG_FILE_PATH).toBe(
    'config/dynamicconfig/project-pipeline.yaml',
  );
  expect(s.temporal?.volumes).toContain(
    './infra/temporal/dynamicconfig.yaml:/etc/temporal/config/dynamicconfig/project-pipeline.yaml:ro',
  );
  expect(s['temporal-ui']?.image).toMatch(/^temporalio\/ui:/);
  expect(s.mongo?.image).toBe('mongo:7');
  expect(s.worker?.build).toBe('.');
  expect(s.api?.build).toBe('.');
  expect(s.worker?.command).toEqual(['node', 'dist/worker/main.js']);
  expect(s.api?.command).toEqual(['node', 'dist/api/main.js']);
});

test.each(['worker', 'api'])('every variable the %s service sets is one the config schema reads', (name) => {
  const env = compose.services[name]?.environment ?? {};
  const unknown = Object.keys(env).filter((k) => !configKeys.has(k));
  expect(unknown).toEqual([]);
  // The compose values themselves (placeholders resolved) pass the schema.
  const resolved = Object.fromEntries(
    Object.entries(env).map(([k, v]) => [k, v.startsWith('${') ? 'x'.repeat(40) : v]),
  );
  expect(() => loadConfig(resolved)).not.toThrow();
});
