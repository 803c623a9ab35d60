import { IsString, Matches } from 'class-validator';
import { PlatformConfig } from '@cdp/platform';

export class CollectorConfig extends PlatformConfig {
  /**
   * Proxies whose X-Forwarded-For is believed for context.ip (Express "trust proxy" values:
   * e.g. `loopback`, `10.0.0.0/8`, `uniquelocal`). Empty: the socket address is the client.
   */
  @IsString()
  @Matches(/^[\w.:/,\s-]*$/, { message: 'CDP_TRUSTED_PROXIES must be a comma-separated list of addresses, subnets or names' })
  CDP_TRUSTED_PROXIES = '';
}
