import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type SchemaObject } from '@nestjs/swagger';
import type { NextFunction, Request, Response } from 'express';

export interface OpenApiOptions {
  title: string;
  description: string;
  /**
   * Component schemas no DTO class describes (e.g. a published JSON Schema, already in OpenAPI
   * 3.0 form), referenced by the decorators as `#/components/schemas/<name>`.
   */
  schemas?: Record<string, SchemaObject>;
}

// Imported as `@cdp/platform/openapi`, not through the index: only the services that serve docs
// load @nestjs/swagger.

/**
 * The OpenAPI document at /openapi.json (and /openapi.yaml) and Swagger UI at /docs, for a
 * service whose routes take a Bearer API key. The UI's assets come from the installed
 * swagger-ui-dist package (served by the service itself), so it works offline.
 */
export function setupOpenApi(app: INestApplication, { title, description, schemas = {} }: OpenApiOptions): void {
  const config = new DocumentBuilder().setTitle(title).setDescription(description).setVersion('1').addBearerAuth().build();
  const document = SwaggerModule.createDocument(app, config);
  document.components = { ...document.components, schemas: { ...document.components?.schemas, ...schemas } };
  // The UI's asset paths are relative to /docs: from /docs/ they pointed under /docs/docs/ (a blank
  // page). Relative, so a path prefix of a reverse proxy stays.
  app.use((req: Request, res: Response, next: NextFunction) => (req.path === '/docs/' ? res.redirect(302, '../docs') : next()));
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'openapi.json', yamlDocumentUrl: 'openapi.yaml' });
}
