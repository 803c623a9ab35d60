import { runService } from '@cdp/platform';
import { setupOpenApi } from '@cdp/platform/openapi';
import { AppModule } from './app/app.module';
import { segmenterOpenApi } from './app/openapi';

void runService(AppModule, { configure: (app) => setupOpenApi(app, segmenterOpenApi()) });
