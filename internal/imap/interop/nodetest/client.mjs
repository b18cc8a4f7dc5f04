// imapflow as a real IMAP client against mailroom, driven by
// internal/imap/interop's tests. It reads its settings from the
// environment (IMAP_HOST, IMAP_PORT, IMAP_USER, IMAP_PASS, IMAP_CA: the
// test CA's PEM file, IMAP_SECURE: "1" for implicit TLS, else STARTTLS)
// and prints one JSON document on standard output.
//
//   node client.mjs read     list folders, fetch INBOX and Sent Items,
//                            flag INBOX's first message \Flagged
//   node client.mjs idle     print {"idling":true}, then wait (at most
//                            IDLE_TIMEOUT_MS) for a new INBOX message
//   node client.mjs append   APPEND APPEND_FILE to Sent Items, \Seen
import { ImapFlow } from 'imapflow';
import { readFileSync } from 'node:fs';

const env = process.env;
const client = new ImapFlow({
  host: env.IMAP_HOST,
  port: Number(env.IMAP_PORT),
  secure: env.IMAP_SECURE === '1',
  doSTARTTLS: env.IMAP_SECURE === '1' ? undefined : true,
  tls: { ca: [readFileSync(env.IMAP_CA)], servername: env.IMAP_SERVERNAME || 'localhost' },
  auth: { user: env.IMAP_USER, pass: env.IMAP_PASS },
  logger: false,
  emitLogs: false,
});

async function folder(path) {
  const lock = await client.getMailboxLock(path);
  try {
    const out = [];
    const uidValidity = String(client.mailbox.uidValidity);
    if (client.mailbox.exists === 0) return { uidValidity, messages: out };
    for await (const m of client.fetch('1:*', { uid: true, flags: true, envelope: true, source: true })) {
      out.push({
        uid: m.uid,
        subject: m.envelope.subject,
        messageId: m.envelope.messageId,
        flags: [...m.flags].sort(),
        size: m.source.length,
      });
    }
    return { uidValidity, messages: out };
  } finally {
    lock.release();
  }
}

async function read() {
  const list = (await client.list()).map((f) => ({ path: f.path, specialUse: f.specialUse || '', delimiter: f.delimiter }));
  const inbox = await folder('INBOX');
  const sent = await folder('Sent Items');
  if (inbox.messages && inbox.messages.length > 0) {
    await client.mailboxOpen('INBOX');
    await client.messageFlagsAdd(String(inbox.messages[0].uid), ['\\Flagged'], { uid: true });
  }
  return { list, inbox, sent };
}

async function idle() {
  await client.mailboxOpen('INBOX');
  const before = client.mailbox.exists;
  const seen = new Promise((resolve) => {
    client.on('exists', (d) => { if (d.count > before) resolve(d.count); });
  });
  const idling = client.idle(); // IDLE now, not after imapflow's own idle delay
  process.stdout.write(JSON.stringify({ idling: true, exists: before }) + '\n');
  let timer;
  const timeout = new Promise((resolve) => { timer = setTimeout(() => resolve(-1), Number(env.IDLE_TIMEOUT_MS || 20000)); });
  const count = await Promise.race([seen, timeout]);
  clearTimeout(timer);
  idling.catch(() => {});
  return { exists: count };
}

async function append() {
  const raw = readFileSync(env.APPEND_FILE);
  const res = await client.append('Sent Items', raw, ['\\Seen']);
  return { uid: res.uid || 0, uidValidity: String(res.uidValidity || '') };
}

const modes = { read, idle, append };
try {
  await client.connect();
  const out = await modes[process.argv[2]]();
  process.stdout.write(JSON.stringify(out) + '\n');
  await client.logout();
} catch (e) {
  process.stdout.write(JSON.stringify({ error: String(e), response: e.responseText || '', code: e.serverResponseCode || '' }) + '\n');
  process.exitCode = 1;
}
