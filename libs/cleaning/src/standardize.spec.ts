import fc from 'fast-check';
import { cleanContext, cleanProperties, cleanTraits } from './clean-fields';
import { cleanCountry, countryCode } from './country';
import { cleanDate, isoDate } from './date';
import { cleanEmail } from './email';
import { isIPv4 } from 'node:net';
import { anonymizeIp, plainIp } from './ip';
import { cleanAmount, cleanCurrency } from './money';
import { cleanName } from './name';
import { normalizeEvent, normalizeFields, serializeFields, type CleanResult } from './normalize-event';
import { cleanPhone } from './phone';
import type { JsonObject } from './safe-json';
import { sanitizeObject } from './safe-json';
import { canonicalTraitKeys } from './trait-aliases';
import { enrichFromUserAgent } from './user-agent';

const anyString = fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary' }));
const IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1';
const GOOGLEBOT = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)';

describe('cleanPhone', () => {
  it.each([
    ['(415) 555-2671', 'US', '+14155552671'],
    ['415.555.2671', 'US', '+14155552671'],
    ['+44 20 7946 0958', 'US', '+442079460958'],
    ['030 1234567', 'DE', '+49301234567'],
    ['0049 30 1234567', 'DE', '+49301234567'],
    ['06 12 34 56 78', 'FR', '+33612345678'],
    [' +1 415 555 2671 ', 'XX', '+14155552671'],
  ])('%s in %s -> %s', (raw, region, e164) => {
    expect(cleanPhone(raw, region)).toEqual({ value: e164, valid: true });
  });
  it.each([['12'], ['not a phone'], ['030 1234567'], ['']])('%j is invalid in the US and kept trimmed', (raw) => {
    expect(cleanPhone(` ${raw} `, 'US')).toEqual({ value: raw, valid: false });
  });
  it('reads a number value', () => {
    expect(cleanPhone(4155552671, 'US').value).toBe('+14155552671');
  });
  it('never throws, is idempotent, and a valid value is E.164', () => {
    const region = fc.constantFrom('US', 'DE', 'FR', 'GB', 'IN', 'XX', '', 'us');
    const phoneish = fc.oneof(anyString, fc.stringMatching(/^\+?[0-9 ()./-]{0,20}$/));
    fc.assert(
      fc.property(phoneish, region, (raw, r) => {
        const once = cleanPhone(raw, r);
        expect(cleanPhone(once.value, r)).toEqual(once);
        if (once.valid) expect(once.value).toMatch(/^\+[1-9]\d{6,14}$/);
      }),
    );
  });
});

describe('cleanName', () => {
  it('trims, collapses whitespace and composes (NFC)', () => {
    expect(cleanName('  Jose\u0301 \t\n  Garci\u0301a  ')).toBe('José García');
    expect(cleanName('Zoë\u00a0Smith')).toBe('Zoë Smith');
  });
  it('is idempotent and its output is NFC with single inner spaces', () => {
    fc.assert(
      fc.property(anyString, (s) => {
        const once = cleanName(s);
        expect(cleanName(once)).toBe(once);
        expect(once.normalize('NFC')).toBe(once);
        expect(once).not.toMatch(/\s\s|^\s|\s$/u);
      }),
    );
  });
});

describe('countries', () => {
  it.each([
    ['DE', 'DE'],
    ['de', 'DE'],
    ['DEU', 'DE'],
    ['Germany', 'DE'],
    [' germany ', 'DE'],
    ['Deutschland', 'DE'],
    ['Allemagne', 'DE'],
    ['Alemania', 'DE'],
    ['United States', 'US'],
    ['USA', 'US'],
    ['Espagne', 'ES'],
    ['Vereinigtes Königreich', 'GB'],
    ['England', 'GB'],
    ['UK', 'GB'],
    ['uk', 'GB'],
    ['Nederland', 'NL'],
    ['Brasil', 'BR'],
  ])('%s -> %s', (raw, code) => {
    expect(countryCode(raw)).toBe(code);
  });
  it('keeps what it does not recognise', () => {
    expect(countryCode('Atlantis')).toBeUndefined();
    expect(cleanCountry(' Atlantis ')).toBe('Atlantis');
    expect(countryCode('XX')).toBeUndefined();
  });
  it('is idempotent, never throws, and a code is alpha-2', () => {
    fc.assert(
      fc.property(anyString, (s) => {
        const once = cleanCountry(s);
        expect(cleanCountry(once)).toBe(once);
        const code = countryCode(s);
        if (code !== undefined) expect(code).toMatch(/^[A-Z]{2}$/);
      }),
    );
  });
});

describe('dates', () => {
  it.each([
    ['1990-05-17', '1990-05-17'],
    ['1990-5-7', '1990-05-07'],
    ['1990/05/17', '1990-05-17'],
    ['19900517', '1990-05-17'],
    ['1990-05-17T23:30:00-05:00', '1990-05-17'],
    ['17.05.1990', '1990-05-17'],
    [' 2000-02-29 ', '2000-02-29'],
  ])('%s -> %s', (raw, iso) => {
    expect(isoDate(raw)).toBe(iso);
  });
  it.each([['1990-02-30'], ['1900-02-29'], ['05/06/1990'], ['yesterday'], ['1990-13-01']])('%s is not guessed', (raw) => {
    expect(isoDate(raw)).toBeUndefined();
    expect(cleanDate(raw)).toBe(raw);
  });
  it('reads epoch milliseconds in UTC', () => {
    expect(isoDate(Date.UTC(1990, 4, 17, 23, 59))).toBe('1990-05-17');
  });
  it('round-trips every calendar date and is idempotent', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T00:00:00Z'), noInvalidDate: true }), (d) => {
        const iso = d.toISOString().slice(0, 10);
        expect(isoDate(iso)).toBe(iso);
        expect(isoDate(d.getTime())).toBe(iso);
      }),
    );
    fc.assert(
      fc.property(fc.oneof(anyString, fc.integer()), (s) => {
        const once = cleanDate(s);
        expect(cleanDate(once)).toBe(once);
      }),
    );
  });
});

describe('money', () => {
  it.each([
    ['12.50', 12.5],
    [' 1,234.5 ', 1234.5],
    ['-3', -3],
    ['+7', 7],
    // A decimal comma, unless groups of three follow a leading group (then thousands, as above).
    ['12,5', 12.5],
    ['10,50', 10.5],
    ['0,125', 0.125],
    ['1,234', 1234],
    ['1.234', 1.234],
    ['1.234,56', 1234.56],
    ['-1.234.567', -1234567],
    ['1e3', 1000],
    ['2.5E-2', 0.025],
    ['$12', '$12'],
    ['1,2,3', '1,2,3'],
    ['1.2.3', '1.2.3'],
    ['1e999', '1e999'],
    ['0x10', '0x10'],
    ['', ''],
    [12.5, 12.5],
    [null, null],
  ])('%j -> %j', (raw, out) => {
    expect(cleanAmount(raw)).toEqual(out);
  });
  it.each([
    [' eur ', 'EUR'],
    ['usd', 'USD'],
    ['€', 'EUR'],
    [' £ ', 'GBP'],
    ['us$', 'USD'],
    ['R$', 'BRL'],
    ['Euro', 'EUR'],
    ['euros', 'EUR'],
    ['US  Dollar', 'USD'],
    ['pound sterling', 'GBP'],
    ['Swiss Francs', 'CHF'],
    ['yen', 'JPY'],
    // Several currencies use these: kept as given.
    ['$', '$'],
    ['¥', '¥'],
    ['kr', 'kr'],
    ['dollar', 'dollar'],
    ['ABC', 'ABC'],
  ])('currency %j -> %j (ISO 4217 from codes, names and symbols of one currency)', (raw, out) => {
    expect(cleanCurrency(raw)).toBe(out);
  });
  it('amounts: numbers stay numbers, idempotent', () => {
    fc.assert(
      fc.property(fc.oneof(anyString, fc.double({ noNaN: true }), fc.stringMatching(/^-?\d{1,9}(\.\d{1,4})?$/)), (v) => {
        const once = cleanAmount(v);
        expect(cleanAmount(once)).toEqual(once);
        if (typeof v === 'string' && /^-?\d{1,9}(\.\d{1,4})?$/.test(v)) expect(once).toBe(Number(v));
      }),
    );
    // Any amount written with a decimal comma (two decimals, as money is) reads as the same number.
    fc.assert(
      fc.property(fc.integer({ min: -1e9, max: 1e9 }), fc.integer({ min: 0, max: 99 }), (units, cents) => {
        const sign = units < 0 ? '-' : '';
        const written = `${sign}${Math.abs(units)},${String(cents).padStart(2, '0')}`;
        expect(cleanAmount(written)).toBe(Number(`${sign}${Math.abs(units)}.${String(cents).padStart(2, '0')}`));
        const grouped = `${sign}${Math.abs(units).toLocaleString('de-DE')},${String(cents).padStart(2, '0')}`;
        expect(cleanAmount(grouped)).toBe(cleanAmount(written));
      }),
    );
    fc.assert(fc.property(anyString, (s) => expect(cleanCurrency(cleanCurrency(s))).toBe(cleanCurrency(s))));
  });
  it('cleans properties and products', () => {
    expect(cleanProperties({ revenue: '12.50', currency: 'eur', products: [{ price: '3', sku: 'a' }, 'x'], note: '4' })).toEqual({
      revenue: 12.5,
      currency: 'EUR',
      products: [{ price: 3, sku: 'a' }, 'x'],
      note: '4',
    });
  });
});

describe('trait aliases', () => {
  it.each([
    [{ first_name: 'A' }, { firstName: 'A' }],
    [{ fname: 'A' }, { firstName: 'A' }],
    [{ FirstName: 'A' }, { firstName: 'A' }],
    [{ firstname: 'A' }, { firstName: 'A' }],
    [
      { last_name: 'B', LastName: 'C' },
      { lastName: 'B', LastName: 'C' },
    ],
    [{ e_mail: 'x' }, { email: 'x' }],
    [{ Email: 'x' }, { email: 'x' }],
    [{ EMAIL: 'x' }, { email: 'x' }],
    [{ phone_number: '1' }, { phone: '1' }],
    [{ mobile: '1' }, { phone: '1' }],
    [{ dob: 'd' }, { birthday: 'd' }],
    [{ date_of_birth: 'd' }, { birthday: 'd' }],
    [{ company_name: 'Acme' }, { company: 'Acme' }],
    [{ zip: '1' }, { address: { postalCode: '1' } }],
    [{ postal_code: '1', city: 'X', state: 'S', street: 'St' }, { address: { postalCode: '1', city: 'X', state: 'S', street: 'St' } }],
    [{ country: 'DE' }, { country: 'DE', address: { country: 'DE' } }],
    [
      { city: 'X', address: { city: 'Y', zip: '2' } },
      { city: 'X', address: { city: 'Y', postalCode: '2' } },
    ],
    [
      { city: 'X', address: 'Main St 1' },
      { city: 'X', address: 'Main St 1' },
    ],
    [
      { email: 'keep', Email: 'alias' },
      { email: 'keep', Email: 'alias' },
    ],
  ])('%j -> %j', (input, output) => {
    expect(canonicalTraitKeys(input as JsonObject)).toEqual(output);
  });
  it('is idempotent and never loses a value', () => {
    const key = fc.oneof(
      fc.constantFrom(
        'first_name',
        'fname',
        'FirstName',
        'firstName',
        'email',
        'Email',
        'zip',
        'postalCode',
        'city',
        'country',
        'Country',
        'address',
        'dob',
      ),
      fc.string(),
    );
    fc.assert(
      fc.property(fc.dictionary(key, fc.oneof(fc.string(), fc.integer(), fc.dictionary(key, fc.string()))), (raw) => {
        const traits = sanitizeObject(raw);
        const once = canonicalTraitKeys(traits);
        expect(canonicalTraitKeys(once)).toEqual(once);
        const values = (o: JsonObject): unknown[] =>
          Object.values(o).flatMap((v) => (typeof v === 'object' && v !== null && !Array.isArray(v) ? values(v) : [v]));
        for (const v of values(traits)) expect(values(once)).toContainEqual(v);
      }),
    );
  });
});

describe('cleanTraits', () => {
  it('cleans reserved traits after mapping aliases', () => {
    expect(
      cleanTraits(
        {
          First_Name: '  Jane   Doe ',
          EMAIL: ' Jane@Example.COM ',
          mobile: '030 1234567',
          country: 'Deutschland',
          dob: '17.05.1990',
          zip: ' 10115 ',
        },
        { defaultRegion: 'DE' },
      ),
    ).toEqual({
      firstName: 'Jane Doe',
      email: 'jane@example.com',
      phone: '+49301234567',
      country: 'DE',
      birthday: '1990-05-17',
      address: { postalCode: '10115', country: 'DE' },
    });
  });
  it("reads a national phone number in the person's own country, else in the workspace's region", () => {
    expect(cleanTraits({ phone: '06 11 22 33 44', address: { country: 'France' } })['phone']).toBe('+33611223344');
    expect(cleanTraits({ phone: '06 11 22 33 44', country: 'FRA' })['phone']).toBe('+33611223344');
    // address.country first: the top-level one may be anything the sender meant.
    expect(cleanTraits({ phone: '0170 1234567', country: 'US', address: { country: 'DE' } })['phone']).toBe('+491701234567');
    // An unknown country falls back to the workspace's region; a + number is read as written.
    expect(cleanTraits({ phone: '0170 1234567', country: 'Atlantis' }, { defaultRegion: 'DE' })['phone']).toBe('+491701234567');
    expect(cleanTraits({ phone: '+1 415 555 2671', country: 'FR' })['phone']).toBe('+14155552671');
    expect(cleanTraits({ phone: '06 11 22 33 44' })).toEqual({ invalidPhone: '06 11 22 33 44' });
  });

  it('keeps an invalid phone as invalidPhone only', () => {
    expect(cleanTraits({ phone: ' 12 ' })).toEqual({ invalidPhone: '12' });
    expect(cleanTraits({ phone: '12', mobile: '(415) 555-2671' })).toEqual({ invalidPhone: '12', mobile: '(415) 555-2671' });
  });
  it('moves an email or phone of another type aside: only a valid address or number stays to identify', () => {
    expect(cleanTraits({ email: 987654, phone: { n: 1 } })).toEqual({ invalidEmail: 987654, invalidPhone: { n: 1 } });
    expect(cleanTraits({ email: ['a@b.co'], phone: true })).toEqual({ invalidEmail: ['a@b.co'], invalidPhone: true });
    // A blank one (an empty form field) is no value at all.
    expect(cleanTraits({ email: '', phone: '  ', name: 'Jo' })).toEqual({ name: 'Jo' });
    expect(cleanTraits({ E_mail: ' ' })).toEqual({});
    expect(cleanTraits({ email: null, phone: null })).toEqual({ email: null, phone: null });
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (email, phone) => {
        const out = cleanTraits(sanitizeObject({ email, phone }));
        if (out['email'] !== undefined && out['email'] !== null) expect(cleanEmail(String(out['email'])).valid).toBe(true);
        if (out['email'] !== undefined) expect(typeof out['email'] === 'string' || out['email'] === null).toBe(true);
        if (out['phone'] !== undefined) expect(out['phone'] === null || /^\+\d+$/.test(String(out['phone']))).toBe(true);
      }),
    );
  });
  it('is idempotent and never throws', () => {
    const value = fc.oneof(fc.string(), fc.integer(), fc.constantFrom('(415) 555-2671', 'a@B.co', 'DEU', '1990-01-01'));
    const key = fc.oneof(fc.constantFrom('email', 'phone', 'mobile', 'firstName', 'country', 'birthday', 'zip', 'address'), fc.string());
    fc.assert(
      fc.property(fc.dictionary(key, fc.oneof(value, fc.dictionary(key, value))), fc.constantFrom('US', 'DE', 'XX'), (raw, region) => {
        const once = cleanTraits(sanitizeObject(raw), { defaultRegion: region });
        expect(cleanTraits(once, { defaultRegion: region })).toEqual(once);
        if (typeof once['phone'] === 'string') expect(once['phone']).toMatch(/^\+\d+$/);
      }),
    );
  });
});

describe('user agents', () => {
  it('parses device, os and browser', () => {
    expect(enrichFromUserAgent({ userAgent: IPHONE })).toMatchObject({
      device: { type: 'mobile', manufacturer: 'Apple', model: 'iPhone' },
      os: { name: 'iOS', version: '17.0' },
      browser: { name: 'Mobile Safari', version: '17.0' },
    });
  });
  it('keeps what the SDK sent', () => {
    const out = enrichFromUserAgent({ userAgent: IPHONE, device: { model: 'iPhone15,2', id: 'd1' } });
    expect(out['device']).toEqual({ type: 'mobile', manufacturer: 'Apple', model: 'iPhone15,2', id: 'd1' });
  });
  it('flags known bots only', () => {
    expect(enrichFromUserAgent({ userAgent: GOOGLEBOT })['bot']).toBe(true);
    expect(enrichFromUserAgent({ userAgent: IPHONE })['bot']).toBeUndefined();
  });
  it('is idempotent and never throws', () => {
    fc.assert(
      fc.property(fc.oneof(anyString, fc.constantFrom(IPHONE, GOOGLEBOT)), (ua) => {
        const once = enrichFromUserAgent({ userAgent: ua });
        expect(enrichFromUserAgent(once)).toEqual(once);
      }),
    );
  });
});

describe('IP anonymization', () => {
  it.each([
    ['203.0.113.195', '203.0.113.0'],
    ['2001:db8:85a3:8d3:1319:8a2e:370:7348', '2001:db8:85a3::'],
    ['2001:db8::1', '2001:db8:0::'],
    // IPv4 clients as a dual-stack socket names them: their IPv4 network, not the first 48 (zero) bits.
    ['::ffff:203.0.113.7', '203.0.113.0'],
    ['::FFFF:cb00:7107', '203.0.113.0'],
    ['::ffff:0:cb00:7107', '0:0:0::'],
    ['fe80::1%eth0', 'fe80:0:0::'],
  ])('%s -> %s', (ip, out) => {
    expect(anonymizeIp(ip)).toBe(out);
  });
  it('reads an IPv4-mapped address as its IPv4 address and leaves every other one as it is', () => {
    expect(plainIp('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(plainIp('::ffff:7f00:1')).toBe('127.0.0.1');
    fc.assert(
      fc.property(fc.ipV4(), (v4) => {
        expect(plainIp(v4)).toBe(v4);
        expect(plainIp(`::ffff:${v4}`)).toBe(v4);
      }),
    );
    fc.assert(
      fc.property(fc.oneof(fc.ipV6(), anyString), (ip) => {
        const plain = plainIp(ip);
        if (plain === ip) return;
        // Changed only into the IPv4 address it maps, which anonymizes the same.
        expect(isIPv4(plain)).toBe(true);
        expect(anonymizeIp(plain)).toBe(anonymizeIp(ip));
      }),
    );
  });
  it('gives undefined for what is not an IP', () => {
    expect(anonymizeIp('localhost')).toBeUndefined();
    expect(anonymizeIp('1.2.3.256')).toBeUndefined();
  });
  it('is idempotent and zeroes the host part', () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6(), anyString), (ip) => {
        const once = anonymizeIp(ip);
        if (once === undefined) return;
        expect(anonymizeIp(once)).toBe(once);
        expect(once.endsWith('.0') || once.endsWith('::')).toBe(true);
      }),
    );
  });
  it('applies only when the workspace asks, dropping an unreadable address', () => {
    expect(cleanContext({ ip: '203.0.113.195' })).toEqual({ ip: '203.0.113.195' });
    expect(cleanContext({ ip: '203.0.113.195' }, { anonymizeIp: true })).toEqual({ ip: '203.0.113.0' });
    expect(cleanContext({ ip: 'garbage' }, { anonymizeIp: true })).toEqual({});
  });
});

describe('normalizeEvent with workspace options', () => {
  const envelope = { workspaceId: 'ws', sourceId: null, messageId: 'm1', receivedAt: 1_700_000_000_000 };
  const trait = fc.dictionary(
    fc.constantFrom('email', 'E_mail', 'phone', 'mobile', 'fname', 'zip', 'country', 'dob', 'name'),
    fc.oneof(fc.string(), fc.constantFrom(' A@B.co ', '030 1234567', '(415) 555-2671', 'Deutschland', '17.05.1990')),
  );
  it('cleaning its own output changes nothing, and it never throws', () => {
    fc.assert(
      fc.property(
        trait,
        fc.record({ revenue: fc.oneof(fc.string(), fc.constant('12.50')), currency: fc.constantFrom('eur', 'usd', 'x') }),
        fc.record({
          ip: fc.oneof(fc.ipV4(), fc.ipV6(), fc.string()),
          userAgent: fc.oneof(fc.string(), fc.constant(IPHONE), fc.constant(GOOGLEBOT)),
        }),
        fc.record({ defaultRegion: fc.constantFrom('US', 'DE', 'XX'), anonymizeIp: fc.boolean() }),
        (traits, properties, context, options) => {
          const first = normalizeEvent({ type: 'identify', userId: 'u', traits, properties, context }, envelope, options);
          expect(first.ok).toBe(true);
          if (!first.ok) return;
          const e = first.event;
          const again = normalizeEvent(
            {
              type: 'identify',
              userId: 'u',
              traits: JSON.parse(e.traits),
              properties: JSON.parse(e.properties),
              context: JSON.parse(e.context),
            },
            envelope,
            options,
          );
          // Key order in the JSON text is not meaningful; the values are.
          const parsed = (r: CleanResult) =>
            r.ok
              ? {
                  ...r.event,
                  traits: JSON.parse(r.event.traits),
                  properties: JSON.parse(r.event.properties),
                  context: JSON.parse(r.event.context),
                }
              : r;
          expect(parsed(again)).toEqual(parsed(first));
        },
      ),
    );
  });
});

describe('normalizeFields', () => {
  const envelope = { workspaceId: 'ws', sourceId: null, messageId: 'm1', receivedAt: 1_700_000_000_000 };
  // As parsed from a request body's JSON text, bar -0 (JSON.parse keeps it, JSON.stringify writes 0).
  const json = fc
    .dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 })
    .map((v) => JSON.parse(JSON.stringify(v)) as Record<string, unknown>);
  it('is normalizeEvent with the fields still objects: serialized, the same event and the same rejection', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('identify', 'track', 'page', 'group', 'alias', 'nope'),
        fc.record({ event: fc.option(fc.string()), groupId: fc.option(fc.string()), previousId: fc.option(fc.string()) }),
        json,
        json,
        fc.record({ userAgent: fc.oneof(fc.string(), fc.constant(IPHONE), fc.constant(GOOGLEBOT)), extra: json }),
        (type, ids, traits, properties, context) => {
          const message = { type, userId: 'u', ...ids, traits, properties, context };
          const fields = normalizeFields(message, envelope);
          const event = normalizeEvent(message, envelope);
          expect(fields.ok ? { ok: true, event: serializeFields(fields.event) } : fields).toEqual(event);
          if (fields.ok) {
            expect(JSON.parse(JSON.stringify(fields.event.traits))).toEqual(fields.event.traits);
            expect(JSON.parse(JSON.stringify(fields.event.context))).toEqual(fields.event.context);
          }
        },
      ),
    );
  });
  it('shares what it derives from a user agent between events only frozen, so one event cannot change another', () => {
    const first = normalizeFields({ type: 'page', userId: 'u', context: { userAgent: IPHONE } }, envelope);
    const second = normalizeFields({ type: 'page', userId: 'v', context: { userAgent: IPHONE } }, envelope);
    if (!first.ok || !second.ok) throw new Error('expected both events to clean');
    const device = first.event.context['device'] as Record<string, unknown>;
    expect(Object.isFrozen(device)).toBe(true);
    expect(() => (device['model'] = 'changed')).toThrow(TypeError);
    expect(second.event.context['device']).toEqual({ type: 'mobile', manufacturer: 'Apple', model: 'iPhone' });
  });
});
