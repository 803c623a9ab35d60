import { runService } from '@cdp/platform';
import { AppModule } from './app/app.module';

void runService(AppModule);
