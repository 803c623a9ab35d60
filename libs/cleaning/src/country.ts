import countries from 'i18n-iso-countries';
import de from 'i18n-iso-countries/langs/de.json';
import en from 'i18n-iso-countries/langs/en.json';
import es from 'i18n-iso-countries/langs/es.json';
import fr from 'i18n-iso-countries/langs/fr.json';
import it from 'i18n-iso-countries/langs/it.json';
import nl from 'i18n-iso-countries/langs/nl.json';
import pt from 'i18n-iso-countries/langs/pt.json';

/** Languages whose country names are recognised, tried in this order. */
export const COUNTRY_NAME_LANGUAGES = ['en', 'de', 'fr', 'es', 'it', 'pt', 'nl'] as const;
for (const locale of [en, de, fr, es, it, pt, nl]) countries.registerLocale(locale);

/** Lower case, without diacritics: how names are compared (as i18n-iso-countries does). */
const nameKey = (name: string): string => name.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();

/**
 * Every known name (official and alternatives, all languages) -> alpha-2, built once:
 * the library's own lookup scans every name on each call (about 1 ms), this is one Map read.
 */
const BY_NAME = new Map<string, string>(
  Object.entries({ england: 'GB', scotland: 'GB', wales: 'GB', 'great britain': 'GB', holland: 'NL' }),
);
for (const lang of [...COUNTRY_NAME_LANGUAGES].reverse()) {
  for (const [code, names] of Object.entries(countries.getNames(lang, { select: 'all' }))) {
    for (const name of names) BY_NAME.set(nameKey(name), code);
  }
}

/**
 * ISO 3166-1 alpha-2 code from an alpha-2 or alpha-3 code or a country name in one of
 * COUNTRY_NAME_LANGUAGES (case-insensitive), or undefined when it is none of these.
 */
export function countryCode(raw: string): string | undefined {
  const value = raw.normalize('NFC').replace(/\s+/gu, ' ').trim();
  if (value.length < 2 || value.length > 80) return undefined;
  const upper = value.toUpperCase();
  // Not every two letters are a code: "UK" is a common name of GB, found below.
  if (/^[A-Z]{2}$/.test(upper) && countries.isValid(upper)) return upper;
  if (/^[A-Z]{3}$/.test(upper)) {
    const alpha2 = countries.alpha3ToAlpha2(upper);
    if (alpha2) return alpha2;
  }
  return BY_NAME.get(nameKey(value));
}

/** The alpha-2 code when the country is recognised, else the trimmed input (kept as sent). */
export function cleanCountry(raw: string): string {
  return countryCode(raw) ?? raw.trim();
}
