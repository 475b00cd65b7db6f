// Posts one line per change to a chat channel: any Slack-compatible incoming webhook
// (Slack, Mattermost, Rocket.Chat; Discord with /slack appended). Without CHAT_WEBHOOK_URL it prints the line.
//
//   WEBHOOK_SECRET=whsec_… CHAT_WEBHOOK_URL=https://hooks.slack.com/services/… node docs/examples/notify-chat.mjs
import { startReceiver } from './receiver.mjs';

const chatUrl = process.env.CHAT_WEBHOOK_URL;

function show(value) {
  return value === null || value === undefined || value === '' ? '(empty)' : String(value);
}

function chatLine(event) {
  const [object, action] = event.operation.split('.');
  const record = event.record ?? {};
  const label = [record.firstName, record.lastName].filter(Boolean).join(' ') || record.name || record.id;
  let line = `${object} ${label} ${action}`;
  if (action === 'updated' && event.updatedFields?.length) {
    line += `: ${event.updatedFields.map((field) => `${field} ${show(event.previousRecord?.[field])} → ${show(record[field])}`).join(', ')}`;
  }
  return line;
}

startReceiver({
  name: 'notify-chat',
  async handle(event) {
    const text = chatLine(event);
    if (!chatUrl) {
      console.log(`notify-chat: ${text}`);
      return;
    }
    const response = await fetch(chatUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text }),
      signal: AbortSignal.timeout(10_000),
    });
    if (!response.ok) throw new Error(`the chat answered ${response.status}`);
    console.log(`notify-chat: posted "${text}"`);
  },
});
