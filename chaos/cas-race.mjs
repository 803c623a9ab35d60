#!/usr/bin/env node
// Is compare-and-set atomic on the database? `node chaos/cas-race.mjs [rounds] [writers]`: per round,
// one document at version 4 and N concurrent updateOne({_id, version: 4}, {$set: {version: 5}});
// MongoDB lets exactly one match. More than one winner means concurrent CAS writers lose updates.
// Uses (and drops) its own database cdp_chaos_cas_probe.
import { MongoClient } from 'mongodb';
import { endpoints } from '../bench/lib/services.mjs';

const rounds = Number(process.argv[2] ?? 20);
const writers = Number(process.argv[3] ?? 8);
const url = new URL(endpoints().mongoUrl);
url.pathname = '/cdp_chaos_cas_probe';
const client = await new MongoClient(url.toString()).connect();
const col = client.db().collection('p');
let broken = 0;
try {
  for (let round = 0; round < rounds; round++) {
    const _id = `w:p${round}`;
    await col.insertOne({ _id, workspaceId: 'w', profileId: `p${round}`, version: 4 });
    const results = await Promise.all(
      Array.from({ length: writers }, (_, i) => col.updateOne({ _id, version: 4 }, { $set: { version: 5, writer: i } })),
    );
    const won = results.filter((r) => r.matchedCount === 1).length;
    if (won > 1) {
      broken++;
      console.log(`round ${round}: ${won} of ${writers} writers matched version 4`);
    }
  }
} finally {
  await client.db().dropDatabase();
  await client.close();
}
console.log(`${broken} of ${rounds} rounds had more than one winner: compare-and-set is ${broken ? 'NOT atomic' : 'atomic (here)'}`);
process.exit(broken ? 1 : 0);
