import { runService } from '@cdp/platform';
import { setupOpenApi } from '@cdp/platform/openapi';
import { AppModule } from './app/app.module';
import { PROFILE_STORE_OPENAPI } from './app/openapi';

void runService(AppModule, { configure: (app) => setupOpenApi(app, PROFILE_STORE_OPENAPI) });
