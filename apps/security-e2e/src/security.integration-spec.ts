import { httpAttacks } from './suites/http-attacks';
import { isolationAndAccess } from './suites/isolation';
import { topicAttacks } from './suites/topic-attacks';
import { startStack, type Stack } from './support/stack';

/**
 * Hostile input and isolation (issue 9, items 3 and 4) against the five built services on the
 * real stack, started once for the three suites: the attacks of one suite must not change what
 * the next one sees, which is itself part of what is checked.
 */
let stack: Stack | undefined;
const current = (): Stack => {
  if (!stack) throw new Error('the stack did not start');
  return stack;
};

beforeAll(async () => {
  stack = await startStack('security');
}, 180_000);

afterAll(async () => {
  await stack?.stop();
});

httpAttacks(current);
topicAttacks(current);
isolationAndAccess(current);
