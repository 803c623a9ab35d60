import { parseSegment, type Condition } from '@cdp/segment-language';
import { historyWarnings } from './history-warnings';

const def = (text: string): Condition => {
  const r = parseSegment(text);
  if (!r.ok) throw new Error(r.error.message);
  return r.definition;
};

describe('historyWarnings', () => {
  it('names each event no stored segment reads, once', () => {
    const stored = [{ definition: def("event('Checkout Viewed').within(1 hour).count() >= 1") }];
    const warnings = historyWarnings(
      def(
        "event('Product Added').count() >= 1 and not event('Checkout Viewed').within(1 hour).count() >= 1 or event('Product Added').count() >= 3",
      ),
      stored,
    );
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^event\("Product Added"\) is counted from now on/);
  });

  it('says nothing for events some segment already reads, for orders (always kept) and for trait-only segments', () => {
    const stored = [{ definition: def("event('Signed Up').count() >= 1") }];
    expect(historyWarnings(def("event('Signed Up').within(7 days).count() >= 1"), stored)).toEqual([]);
    expect(historyWarnings(def("event('Order Completed').count() >= 2"), [])).toEqual([]);
    expect(historyWarnings(def("trait('plan') = 'pro'"), [])).toEqual([]);
  });
});
