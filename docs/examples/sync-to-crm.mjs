// Mirrors people into another CRM that speaks Twenty's REST API (Twenty itself, or another Switchboard
// workspace): created → POST, updated → PATCH of the changed fields, deleted → DELETE, restored → restore,
// destroyed → hard DELETE. The other CRM's ids are kept in ID_MAP_FILE.
//
//   WEBHOOK_SECRET=whsec_… CRM_URL=https://crm.example.com CRM_API_KEY=… node docs/examples/sync-to-crm.mjs
import fs from 'node:fs';
import path from 'node:path';
import { startReceiver } from './receiver.mjs';

const crmUrl = process.env.CRM_URL?.replace(/\/$/, '');
const crmKey = process.env.CRM_API_KEY;
if (!crmUrl || !crmKey) {
  console.error('sync-to-crm: set CRM_URL (e.g. http://127.0.0.1:3000) and CRM_API_KEY (a key of the workspace to copy into)');
  process.exit(2);
}
const mapFile = path.resolve(process.env.ID_MAP_FILE ?? 'crm-id-map.json');
const idMap = fs.existsSync(mapFile) ? JSON.parse(fs.readFileSync(mapFile, 'utf8')) : {};
const saveMap = () => fs.writeFileSync(mapFile, JSON.stringify(idMap, null, 2));

// companyId is left out: it names a company of this workspace, which the other CRM does not know.
const SYNCED_FIELDS = ['firstName', 'lastName', 'email', 'jobTitle', 'phone', 'city'];

async function crm(method, pathname, body) {
  const response = await fetch(`${crmUrl}${pathname}`, {
    method,
    headers: { authorization: `Bearer ${crmKey}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  if (!response.ok && response.status !== 404) throw new Error(`${method} ${pathname} answered ${response.status}: ${text.slice(0, 200)}`);
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

function pick(record, fields) {
  return Object.fromEntries(fields.filter((field) => field in record).map((field) => [field, record[field]]));
}

async function createCopy(record) {
  const { body } = await crm('POST', '/rest/people', pick(record, SYNCED_FIELDS));
  idMap[record.id] = body.data.createPerson.id;
  saveMap();
  return idMap[record.id];
}

startReceiver({
  name: 'sync-to-crm',
  async handle(event) {
    const [object, action] = event.operation.split('.');
    if (object !== 'person') return;
    const record = event.record;
    const copyId = idMap[record.id];
    if (!copyId) {
      // Also covers a person created before the sync started: the first change copies it.
      if (action !== 'deleted' && action !== 'destroyed') console.log(`sync-to-crm: ${record.id} copied as ${await createCopy(record)}`);
      return;
    }
    if (action === 'updated') {
      const changed = (event.updatedFields ?? SYNCED_FIELDS).filter((field) => SYNCED_FIELDS.includes(field));
      if (changed.length > 0) await crm('PATCH', `/rest/people/${copyId}`, pick(record, changed));
      console.log(`sync-to-crm: ${record.id} updated (${changed.join(', ') || 'nothing synced'})`);
    } else if (action === 'deleted') {
      await crm('DELETE', `/rest/people/${copyId}`);
      console.log(`sync-to-crm: ${record.id} deleted`);
    } else if (action === 'restored') {
      await crm('POST', `/rest/people/${copyId}/restore`);
      console.log(`sync-to-crm: ${record.id} restored`);
    } else if (action === 'destroyed') {
      await crm('DELETE', `/rest/people/${copyId}?hard=true`);
      delete idMap[record.id];
      saveMap();
      console.log(`sync-to-crm: ${record.id} destroyed`);
    }
  },
});
