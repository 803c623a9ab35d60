/** Pass/fail: nothing lost, nothing twice, counts and segment transitions consistent, nothing stuck, every fault as expected. */
export function verdict(r) {
  const failures = [];
  const lost = r.phases.reduce((s, p) => s + p.lost, 0);
  const duplicated = r.phases.reduce((s, p) => s + p.duplicated, 0);
  if (lost) failures.push(`${lost} accepted events lost`);
  if (duplicated) failures.push(`${duplicated} events twice in the timeline`);
  if (r.profiles.countMismatches)
    failures.push(
      `${r.profiles.countMismatches} profiles whose event_count differs from their timeline (+${r.profiles.countExcess} / -${r.profiles.countMissing})`,
    );
  if (r.api.problems.length) failures.push(`Profile API disagrees for ${r.api.problems.length} people`);
  if (r.segmentChanges.problemCount) failures.push(`${r.segmentChanges.problemCount} inconsistent segment transitions`);
  if (!r.drain.drained) failures.push(`consumers stuck (lag ${JSON.stringify(r.drain.lags)})`);
  for (const p of r.phases) if (p.fault?.failed) failures.push(`${p.id}: ${p.fault.failed}`);
  for (const p of r.phases)
    if (p.stuck?.length) failures.push(`${p.id}: consumer ${p.stuck.join(', ')} stuck (group without members, process alive)`);
  return { passed: failures.length === 0, lost, duplicated, failures };
}

const faultNote = (f) => {
  if (!f) return '';
  const parts = [];
  if (f.restartMs != null) parts.push(`restart ${(f.restartMs / 1000).toFixed(1)} s`);
  if (f.stopMs != null) parts.push(`stop ${(f.stopMs / 1000).toFixed(1)} s${f.forced ? ' (SIGKILL)' : ''}`);
  if (f.startMs != null) parts.push(`2nd up ${(f.startMs / 1000).toFixed(1)} s`);
  if (f.collectorWhileDown) parts.push(`collector while down ${JSON.stringify(f.collectorWhileDown)}`);
  if (f.failed) parts.push(`**${f.failed}**`);
  return parts.join(', ');
};
const stuckNote = (p) => (p.stuck?.length ? `; **stuck: ${p.stuck.join(', ')} (restarted)**` : '');

export function renderMarkdown(r) {
  const v = r.verdict;
  const lines = [
    `# Chaos run ${r.startedAt} (${r.cfg.mode})`,
    '',
    `**${v.passed ? 'PASSED' : 'FAILED'}**${v.passed ? '' : `: ${v.failures.join('; ')}`}`,
    '',
    `${r.phases.reduce((s, p) => s + p.sent, 0)} events in ${r.phases.length} phases (${r.cfg.rate} events/s max, lag cap ${r.cfg.lagCap}, ` +
      `batches of ${r.cfg.batchSize}, ${r.cfg.partitions} partitions); load ${r.loadSec} s, drain ${(r.drain.drainMs / 1000).toFixed(0)} s, ` +
      `total ${r.durationSec} s. Segments: ${r.segments.join(', ')}.`,
    '',
    '| phase | fault | sent | accepted | non-200 answers | applied | lost | duplicated | resent at edge | max lag | phase s | notes |',
    '|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|',
  ];
  for (const p of r.phases) {
    const statuses = Object.entries(p.http.statuses)
      .map(([k, n]) => `${k}x${n}`)
      .join(' ');
    lines.push(
      `| ${p.id} | ${p.describe} | ${p.sent} | ${p.accepted} | ${p.http.failedAttempts}${statuses ? ` (${statuses})` : ''} | ${p.applied} | ${p.lost} | ${p.duplicated} | ${p.resentAtEdge} | ${p.lagMax} | ${(p.ms / 1000).toFixed(0)} | ${faultNote(p.fault)}${stuckNote(p)} |`,
    );
  }
  const tot = (k) => r.phases.reduce((s, p) => s + p[k], 0);
  lines.push(
    `| **total** | | ${tot('sent')} | ${tot('accepted')} | ${r.phases.reduce((s, p) => s + p.http.failedAttempts, 0)} | ${tot('applied')} | ${tot('lost')} | ${tot('duplicated')} | ${tot('resentAtEdge')} | | | |`,
  );
  const pr = r.profiles;
  const sc = r.segmentChanges;
  lines.push(
    '',
    '"non-200 answers" counts requests (batches) that failed and were retried with the same messageIds; ' +
      '"resent at edge" counts accepted events that reached the raw topic more than once (a 200 lost with a killed collector) and were deduplicated downstream.',
    '',
    '## Checks',
    '',
    `- Drain: ${r.drain.drained ? `every consumer group at the end offsets after ${(r.drain.drainMs / 1000).toFixed(0)} s` : `**stuck**: ${JSON.stringify(r.drain.lags)}`}.`,
    `- Consumer groups without members for over 30 s during the load: ${r.groupsWithoutMembers.length ? r.groupsWithoutMembers.map((e) => `**${e.group}** from ${e.fromSec} s (phase ${e.phase}) for ${e.forSec != null ? `${e.forSec} s` : 'the rest of the load'}`).join('; ') : 'none'}.`,
    `- Timeline: ${pr.timelineDocs} documents; accepted events missing: ${tot('lost')}; twice: ${tot('duplicated')}; applied but never answered 200: ${pr.extraApplied}.`,
    `- Event counts: ${pr.canonicalProfiles} canonical profiles (${pr.profiles} documents), sum of event_count ${pr.eventCountTotal}; ` +
      `profiles whose event_count differs from the timeline events of it and what it absorbed: ${pr.countMismatches}` +
      (pr.countMismatches ? ` (+${pr.countExcess} / -${pr.countMissing}; e.g. ${JSON.stringify(pr.mismatchSample.slice(0, 3))})` : '') +
      '.',
    `- Profile API (GET /v1/profiles/user_id:...): ${r.api.checked} people checked, ${r.api.problems.length} disagreements${r.api.problems.length ? `: ${r.api.problems.slice(0, 5).join('; ')}` : ''}.`,
    `- Segment changes: ${sc.records} records, ${sc.transitions} distinct transitions over ${sc.pairs} segment+profile pairs, ${sc.repeats} repeats ` +
      `(same segment, profile, membershipVersion); inconsistencies ${sc.problemCount} (segmenter store vs topic ${sc.membershipMismatches}, profile-store read model vs topic ${sc.readModelMismatches}).`,
    `- Raw records ${r.rawRecords}; DLQ records ${r.dlqRecords}.`,
  );
  if (sc.problems.length) lines.push('', 'Segment problems (first):', '', ...sc.problems.slice(0, 10).map((p) => `- ${p}`));
  const lostPhases = r.phases.filter((p) => p.lost || p.duplicated);
  if (lostPhases.length)
    lines.push(
      '',
      'Lost or duplicated messageIds (first per phase):',
      '',
      ...lostPhases.map((p) => `- ${p.id}: lost ${p.lostIds.join(', ')}; twice ${p.duplicatedIds.join(', ')}`),
    );
  return lines.join('\n') + '\n';
}
