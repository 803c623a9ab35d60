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
