import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { NextFunction, Request, Response } from 'express';

/**
 * The OpenAPI document at /openapi.json and Swagger UI at /docs. The UI's assets come from the
 * installed swagger-ui-dist package (served by the service itself), so it works offline.
 */
export function setupOpenApi(app: INestApplication): void {
  const config = new DocumentBuilder()
    .setTitle('CDP profile-store')
    .setDescription(
      'The Profile API: unified profiles by id or type:value, their traits, timeline, identities and segments; ' +
        'search by trait; export and erasure; privacy regulations. Authorization: Bearer <API key> of one workspace ' +
        '(read:profiles to read, write:profiles to erase and regulate).',
    )
    .setVersion('1')
    .addBearerAuth()
    .build();
  const document = SwaggerModule.createDocument(app, config);
  // The UI's asset paths are relative to /docs: from /docs/ they pointed under /docs/docs/ (a blank
  // page). Relative, so a path prefix of a reverse proxy stays.
  app.use((req: Request, res: Response, next: NextFunction) => (req.path === '/docs/' ? res.redirect(302, '../docs') : next()));
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'openapi.json', yamlDocumentUrl: 'openapi.yaml' });
}
