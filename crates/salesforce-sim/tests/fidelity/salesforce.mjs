// Runs the real jsforce client against a running Salesforce simulator.
// Usage: SF_URL=http://127.0.0.1:PORT [SF_CLIENT_ID=..] [SF_CLIENT_SECRET=..] node salesforce.mjs
// The simulator must have a unique External ID text field Contact.HubSpot_Id__c.
// Prints one line per check, then a summary; exits non-zero on the first failure.

import assert from 'node:assert/strict';
import jsforce from 'jsforce';

const base = process.env.SF_URL;
const clientId = process.env.SF_CLIENT_ID ?? 'sim-client';
const clientSecret = process.env.SF_CLIENT_SECRET ?? 'sim-secret';
const version = '59.0';
const batch = { 'Sforce-Query-Options': 'batchSize=200' };
let passed = 0;

async function check(name, body) {
  await body();
  passed += 1;
  console.log(`ok - ${name}`);
}

function connect() {
  return new jsforce.Connection({ oauth2: { loginUrl: base, clientId, clientSecret }, version });
}

const conn = connect();

await check('client credentials token flow', async () => {
  const user = await conn.authorize({ grant_type: 'client_credentials' });
  assert.equal(conn.instanceUrl, base);
  assert.ok(conn.accessToken);
  assert.match(user.organizationId, /^00D/);
  assert.match(user.id, /^005/);
});

await check('a 401 INVALID_SESSION_ID triggers the refresh function and a retry', async () => {
  const refreshFn = async (c, callback) => {
    try {
      const fresh = connect();
      await fresh.authorize({ grant_type: 'client_credentials' });
      callback(null, fresh.accessToken);
    } catch (err) {
      callback(err);
    }
  };
  const stale = new jsforce.Connection({ instanceUrl: base, accessToken: 'expired!token', version, refreshFn });
  const limits = await stale.limits();
  assert.ok(limits.DailyApiRequests.Max > 0);
  assert.notEqual(stale.accessToken, 'expired!token');
});

await check('describe global and describe of Contact', async () => {
  const global = await conn.describeGlobal();
  assert.ok(global.sobjects.some((o) => o.name === 'Contact' && o.keyPrefix === '003'));
  const contact = await conn.sobject('Contact').describe();
  const ext = contact.fields.find((f) => f.name === 'HubSpot_Id__c');
  assert.equal(ext.externalId, true);
  assert.equal(contact.fields.find((f) => f.name === 'LastName').nillable, false);
});

const records = Array.from({ length: 450 }, (_, i) => ({
  HubSpot_Id__c: `hs-${String(i).padStart(4, '0')}`,
  LastName: `Person ${i}`,
}));

await check('collections upsert of 450 records in chunks of 200 creates them', async () => {
  const results = await conn.sobject('Contact').upsert(records, 'HubSpot_Id__c', { allowRecursive: true });
  assert.equal(results.length, 450);
  assert.ok(results.every((r) => r.success && r.created === true), JSON.stringify(results[0]));
});

await check('a second collections upsert updates them', async () => {
  const changed = records.slice(0, 200).map((r) => ({ ...r, Title: 'Updated' }));
  const results = await conn.sobject('Contact').upsert(changed, 'HubSpot_Id__c');
  assert.ok(results.every((r) => r.success && r.created === false));
});

await check('per-record errors come back in request order', async () => {
  const results = await conn.sobject('Contact').create([{ LastName: 'Ok' }, { FirstName: 'No last name' }]);
  assert.equal(results[0].success, true);
  assert.equal(results[1].success, false);
  assert.equal(results[1].errors[0].statusCode, 'REQUIRED_FIELD_MISSING');
});

await check('query pages through nextRecordsUrl', async () => {
  const first = await conn.query('SELECT Id, HubSpot_Id__c FROM Contact WHERE HubSpot_Id__c != null ORDER BY HubSpot_Id__c', { headers: batch });
  assert.equal(first.totalSize, 450);
  assert.equal(first.done, false);
  assert.equal(first.records.length, 200);
  const second = await conn.queryMore(first.nextRecordsUrl, { headers: batch });
  assert.equal(second.records[0].HubSpot_Id__c, 'hs-0200');
  const all = await conn.query('SELECT Id FROM Contact WHERE HubSpot_Id__c != null', { autoFetch: true, maxFetch: 10000, headers: batch });
  assert.equal(all.records.length, 450);
});

await check('single-record create, retrieve, update and destroy', async () => {
  const created = await conn.sobject('Contact').create({ LastName: 'Single' });
  assert.equal(created.success, true);
  const read = await conn.sobject('Contact').retrieve(created.id);
  assert.equal(read.LastName, 'Single');
  const updated = await conn.sobject('Contact').update({ Id: created.id, Title: 'T' });
  assert.equal(updated.success, true);
  const destroyed = await conn.sobject('Contact').destroy(created.id);
  assert.equal(destroyed.success, true);
});

await check('queryAll pages include deleted rows', async () => {
  const doomed = await conn.query("SELECT Id FROM Contact WHERE HubSpot_Id__c IN ('hs-0001', 'hs-0002')");
  const ids = doomed.records.map((r) => r.Id);
  const results = await conn.sobject('Contact').destroy(ids);
  assert.ok(results.every((r) => r.success));
  const live = await conn.query('SELECT Id FROM Contact WHERE HubSpot_Id__c != null', { autoFetch: true, headers: batch });
  assert.equal(live.totalSize, 448);
  const all = await conn.query('SELECT Id, IsDeleted FROM Contact WHERE HubSpot_Id__c != null', { scanAll: true, autoFetch: true, maxFetch: 10000, headers: batch });
  assert.equal(all.totalSize, 450);
  assert.equal(all.records.length, 450);
  assert.equal(all.records.filter((r) => r.IsDeleted).length, 2);
});

await check('single upsert by external id', async () => {
  const created = await conn.sobject('Contact').upsert({ HubSpot_Id__c: 'hs-single', LastName: 'Up' }, 'HubSpot_Id__c');
  assert.equal(created.success, true);
  const again = await conn.sobject('Contact').upsert({ HubSpot_Id__c: 'hs-single', LastName: 'Up2' }, 'HubSpot_Id__c');
  assert.equal(again.success, true);
});

await check('updated and deleted replication windows', async () => {
  const end = new Date();
  const start = new Date(end.getTime() - 60 * 60 * 1000);
  // Windows cover whole minutes up to the current one, so this run's own changes may not
  // show yet; the check is that jsforce's requests and the answers' shapes work.
  const updated = await conn.sobject('Contact').updated(start, end);
  assert.ok(Array.isArray(updated.ids));
  assert.match(updated.latestDateCovered, /^\d{4}-\d\d-\d\dT\d\d:\d\d:00\.000\+0000$/);
  const deleted = await conn.sobject('Contact').deleted(start, end);
  assert.ok(Array.isArray(deleted.deletedRecords));
  assert.ok(deleted.earliestDateAvailable);
});

await check('API usage is read from Sforce-Limit-Info', async () => {
  await conn.query('SELECT Id FROM Contact LIMIT 1');
  assert.ok(conn.limitInfo?.apiUsage?.used > 0, JSON.stringify(conn.limitInfo));
});

console.log(`jsforce fidelity: all ${passed} checks passed`);
