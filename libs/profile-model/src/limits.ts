/**
 * How many recent messageIds a profile remembers. It must cover every event of one profile that
 * can be replayed after a crash between the profile write and the timeline write, i.e. one
 * consumer chunk (500 records).
 */
export const APPLIED_MESSAGE_WINDOW = 500;

/** Distinct event names counted per profile; further names count under OTHER_EVENTS. */
export const MAX_EVENT_NAMES = 200;
export const OTHER_EVENTS = '_other';

/** Groups kept per profile (group calls): the most recently seen, so one runaway source cannot grow a profile without end. */
export const MAX_ACCOUNTS = 100;

/** Removed identifiers a profile remembers (the newest): removals are rare repairs. */
export const MAX_REMOVED_IDENTIFIERS = 20;

/**
 * Traits kept per profile, the largest value a trait may hold and the most all of them may take
 * (UTF-8 bytes of their names and values as JSON): a new trait past the count, or a value past
 * either size, is not stored (the trait keeps what it had). Every profile change carries all the
 * traits, so they must fit a Kafka record (1 MB by default) with room to spare, and a profile
 * document far below MongoDB's 16 MB: past either, every write of the profile would fail.
 */
export const MAX_TRAITS = 1_000;
export const MAX_TRAIT_VALUE_BYTES = 8_192;
export const MAX_TRAITS_BYTES = 512 * 1024;
