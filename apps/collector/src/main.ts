import { runService } from '@cdp/platform';
import { AppModule } from './app/app.module';
import { configureHttp } from './app/http-setup';

void runService(AppModule, { bodyParser: false, configure: configureHttp });
