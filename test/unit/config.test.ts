import { ConfigError, loadConfig } from '../../config';

test('defaults give a working local configuration', () => {
  const c = loadConfig({});
  expect(c.temporal).toMatchObject({
    address: '127.0.0.1:7233',
    namespace: 'default',
    taskQueue: 'project-pipeline',
    uiUrl: 'http://127.0.0.1:8233',
  });
  expect(c.api.port).toBe(3000);
  expect(c.mongo.uri).toMatch(/^mongodb:\/\//);
});

test('an invalid value is refused and the error names the variable', () => {
  expect(() => loadConfig({ API_PORT: '70000', MONGO_URI: 'postgres://x' })).toThrow(ConfigError);
  try {
    loadConfig({ API_PORT: '70000', MONGO_URI: 'postgres://x' });
  } catch (err) {
    expect((err as ConfigError).problems.join('\n')).toMatch(/API_PORT/);
    expect((err as ConfigError).problems.join('\n')).toMatch(/MONGO_URI/);
  }
});

test('a short JWT secret is refused', () => {
  expect(() => loadConfig({ JWT_SECRET: 'short' })).toThrow(/JWT_SECRET/);
});
