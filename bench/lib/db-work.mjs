/** The services' database work (`cdp_db_commands_total`, `_documents_total`, `_write_errors_total` of @cdp/mongo) from their /metrics. */
export async function scrapeDbWork(url) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const out = { commands: {}, documents: {}, write_errors: {} };
  for (const line of text.split('\n')) {
    const m = /^cdp_db_(commands|documents|write_errors)_total\{(.*)\} (\S+)$/.exec(line);
    if (!m) continue;
    const collection = /collection="([^"]*)"/.exec(m[2])?.[1] || '(database)';
    const key = `${collection} ${/command="([^"]*)"/.exec(m[2])?.[1]}`;
    const kind = out[m[1]];
    kind[key] = (kind[key] ?? 0) + Number(m[3]);
  }
  return out;
}

/** Round trips and documents per event between two scrapes, documents by collection and command, largest first. */
export function dbWorkPerEvent(a, b, events) {
  const per = (kind) =>
    Object.entries(b[kind])
      .map(([c, n]) => [c, (n - (a[kind][c] ?? 0)) / Math.max(1, events)])
      .filter(([, v]) => v > 0)
      .sort((x, y) => y[1] - x[1]);
  const commands = per('commands');
  const documents = per('documents');
  const writeErrors = per('write_errors');
  const total = (xs) => xs.reduce((s, [, v]) => s + v, 0);
  return {
    commandsPerEvent: total(commands),
    documentsPerEvent: total(documents),
    writeErrorsPerEvent: total(writeErrors),
    documentsByCollection: Object.fromEntries(documents),
    commandsByCollection: Object.fromEntries(commands),
    writeErrorsByCollection: Object.fromEntries(writeErrors),
  };
}
