import { runService } from '@cdp/platform';
import { AppModule } from './app/app.module';
import { configureHttp } from './app/http-setup';
import { runWorkers, workerCount } from './workers';

void runWorkers(workerCount(process.env['CDP_WORKERS']) ?? 1, async () => {
  await runService(AppModule, { bodyParser: false, configure: configureHttp });
});
