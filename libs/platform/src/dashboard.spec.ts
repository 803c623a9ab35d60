import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Metrics } from './metrics';

/** The Grafana dashboard in deploy/grafana only charts metrics the services export. */
describe('deploy/grafana/cdp-pipeline.json', () => {
  const dashboard = JSON.parse(readFileSync(join(__dirname, '../../../deploy/grafana/cdp-pipeline.json'), 'utf8')) as {
    panels: { targets: { expr: string }[] }[];
  };

  it('names only cdp_* metrics the shared Metrics registry defines', async () => {
    const exported = new Set((await new Metrics().registry.getMetricsAsJSON()).map((m) => m.name));
    const charted = dashboard.panels.flatMap((p) => p.targets.flatMap((t) => t.expr.match(/\bcdp_[a-z_]+/g) ?? []));
    expect(charted.length).toBeGreaterThan(0);
    for (const name of charted) expect(exported).toContain(name.replace(/_(bucket|sum|count)$/, ''));
  });
});
