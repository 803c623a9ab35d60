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

/**
 * Traits kept per profile, and the longest value (as JSON text) a trait may hold: a new trait past
 * the count, or a value past the length, is not stored (the trait keeps what it had). Together
 * they keep a profile document far below MongoDB's 16 MB, past which every write of it would fail.
 */
export const MAX_TRAITS = 1_000;
export const MAX_TRAIT_VALUE_CHARS = 8_192;
