import { startService, testScope, type RunningService } from '@cdp/testing';
import { AUTH, randomPortBase } from './testing/segmenter-stack';

/** The built segmenter's OpenAPI document and docs UI: every HTTP route described, the UI served without external assets. */
const scope = testScope('segapi');

let segmenter: RunningService;

beforeAll(async () => {
  segmenter = await startService('segmenter', randomPortBase() + 7, scope.env);
}, 120_000);

afterAll(() => segmenter?.stop());

interface Operation {
  parameters?: { name: string; in: string }[];
  requestBody?: unknown;
  responses: Record<string, unknown>;
}
interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Record<string, unknown>> };
}

const openApi = async (): Promise<OpenApiDocument> => {
  const res = await fetch(`${segmenter.url}/openapi.json`);
  expect(res.status).toBe(200);
  return (await res.json()) as OpenApiDocument;
};

/** Every `$ref` target in a JSON tree. */
const refsIn = (node: unknown): string[] =>
  Array.isArray(node)
    ? node.flatMap(refsIn)
    : typeof node === 'object' && node !== null
      ? Object.entries(node).flatMap(([k, v]) => (k === '$ref' && typeof v === 'string' ? [v] : refsIn(v)))
      : [];

it('its OpenAPI document describes every segment and prediction route: methods, parameters, bodies, answers', async () => {
  const doc = await openApi();
  expect(doc.openapi).toMatch(/^3\./);
  const methods = Object.fromEntries(
    Object.entries(doc.paths)
      .filter(([path]) => path.startsWith('/v1/'))
      .map(([path, ops]) => [path, Object.keys(ops).sort()]),
  );
  expect(methods).toEqual({
    '/v1/segments': ['get', 'post'],
    '/v1/segments/schema': ['get'],
    '/v1/segments/preview': ['post'],
    '/v1/segments/{id}': ['delete', 'get', 'put'],
    '/v1/segments/{id}/size-history': ['get'],
    '/v1/segments/{id}/members': ['get'],
    '/v1/predictions/run': ['post'],
    '/v1/predictions/report': ['get'],
    '/v1/predictions/profiles/{profileId}': ['get'],
  });
  const op = (path: string, method: string) => doc.paths[path]?.[method] as Operation;
  const statuses = (path: string, method: string) => Object.keys(op(path, method).responses).sort();
  expect(statuses('/v1/segments', 'post')).toEqual(['201', '400', '401', '403', '409']);
  expect(statuses('/v1/segments/{id}', 'put')).toEqual(['200', '400', '401', '403', '404', '409']);
  expect(statuses('/v1/segments/{id}', 'delete')).toEqual(['204', '401', '403', '404', '409']);
  expect(statuses('/v1/segments/{id}/members', 'get')).toEqual(['200', '400', '401', '403', '404']);
  expect(statuses('/v1/predictions/report', 'get')).toEqual(['200', '401', '403', '404']);
  expect(op('/v1/segments', 'post').requestBody).toBeDefined();
  expect(op('/v1/segments/preview', 'post').requestBody).toBeDefined();
  expect(op('/v1/segments/{id}/members', 'get').parameters?.map((p) => `${p.in}:${p.name}`)).toEqual([
    'path:id',
    'query:limit',
    'query:after',
  ]);
  expect(op('/v1/segments/{id}/size-history', 'get').parameters?.map((p) => `${p.in}:${p.name}`)).toEqual(['path:id', 'query:days']);

  // The definition: the text form or the AST, whose schema is the published one in OpenAPI form.
  const body = doc.components.schemas['SegmentBody'] as { properties: Record<string, { oneOf?: unknown[] }> };
  expect(body.properties['definition']?.oneOf).toEqual([
    expect.objectContaining({ type: 'string' }),
    { $ref: '#/components/schemas/SegmentDefinition' },
  ]);
  const published = (await (await fetch(`${segmenter.url}/v1/segments/schema`, { headers: AUTH })).json()) as {
    definitions: Record<string, unknown>;
  };
  for (const part of Object.keys(published.definitions))
    expect(doc.components.schemas[part === 'condition' ? 'SegmentDefinition' : `SegmentDefinition.${part}`]).toBeDefined();
  // Every reference resolves, and nothing of draft-07 that OpenAPI 3.0 lacks is left.
  for (const ref of new Set(refsIn(doc))) expect(doc.components.schemas[ref.replace('#/components/schemas/', '')]).toBeDefined();
  expect(JSON.stringify(doc.components.schemas)).not.toMatch(/"(const|\$schema|\$id|definitions)":|"type":\[/);
});

it('serves the docs UI without external assets', async () => {
  const ui = await fetch(`${segmenter.url}/docs`);
  expect(ui.status).toBe(200);
  const html = await ui.text();
  expect(html).not.toMatch(/https?:\/\/(?!localhost|127\.0\.0\.1)[^"']*\.(js|css)/);
  const script = /src="([^"]*swagger-ui-bundle\.js)"/.exec(html)?.[1];
  expect(script).toBeDefined();
  expect((await fetch(new URL(script as string, `${segmenter.url}/docs`))).status).toBe(200);
  const slash = await fetch(`${segmenter.url}/docs/`, { redirect: 'manual' });
  expect([slash.status, slash.headers.get('location')]).toEqual([302, '../docs']);
});
