/** Header a replayed record carries: `<topic>/<partition>/<offset>` where it was first written (a JSON event without messageId keeps its id). */
export const REPLAY_OF_HEADER = 'cdp-replay-of';
