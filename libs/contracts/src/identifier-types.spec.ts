import { misspelledIdentifierType } from './identifier-types';

describe('misspelledIdentifierType', () => {
  it.each([
    ['mail', 'email'],
    ['emial', 'email'],
    ['e-mail', 'email'],
    ['e_mail', 'email'],
    ['emails', 'email'],
    ['phnoe', 'phone'],
    ['userid', 'user_id'],
    ['user-id', 'user_id'],
    ['anonymousid', 'anonymous_id'],
    ['anonymus_id', 'anonymous_id'],
    ['device-id', 'device_id'],
    ['advertisingid', 'advertising_id'],
  ])('%s misspells %s', (type, meant) => expect(misspelledIdentifierType(type)).toBe(meant));

  it.each(['email', 'user_id', 'crm_id', 'crm-id', 'email2', 'email_2', 'phone-3', 'device', 'customer_number', 'ad_id', 'uid'])(
    '%s is no misspelling',
    (type) => expect(misspelledIdentifierType(type)).toBeNull(),
  );
});
