import { runService } from '@cdp/platform';
import { AppModule } from './app/app.module';
import { setupOpenApi } from './app/openapi';

void runService(AppModule, { configure: setupOpenApi });
