import { Matches } from 'class-validator';
import { PlatformConfig } from '@cdp/platform';

export class NormalizerConfig extends PlatformConfig {
  /**
   * The master key of the PII `encrypt` action: 32 random bytes in base64 (`openssl rand -base64 32`).
   * Empty: `encrypt` rules are refused by the settings API (and a stored one drops its field).
   */
  @Matches(/^(|[A-Za-z0-9+/]{43}=)$/, { message: 'CDP_PII_ENCRYPTION_KEY must be 32 bytes in base64 (openssl rand -base64 32)' })
  CDP_PII_ENCRYPTION_KEY = '';

  /**
   * Earlier master keys, comma-separated, kept for reading values written under them (key
   * rotation): new values are always written under CDP_PII_ENCRYPTION_KEY.
   */
  @Matches(/^(|[A-Za-z0-9+/]{43}=(\s*,\s*[A-Za-z0-9+/]{43}=)*)$/, {
    message: 'CDP_PII_PREVIOUS_KEYS must be comma-separated 32-byte keys in base64',
  })
  CDP_PII_PREVIOUS_KEYS = '';
}
