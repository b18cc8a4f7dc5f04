// Submits one message to mailroom with nodemailer over STARTTLS, logging in
// with AUTH XOAUTH2 and an access token, for TestInterop_NodemailerXOAuth2.
// Usage: node send.mjs '{"port":587,"ca":"cert.pem","user":"…","token":"…","retry":"…"}'
// It prints one JSON line: the reply to the message, or the error and the
// server's reply. A refused token is retried once with "retry", as
// nodemailer asks its provisionCallback for a new token after a 535.
import { readFileSync } from 'node:fs';
import nodemailer from 'nodemailer';

const a = JSON.parse(process.argv[2]);
const transport = nodemailer.createTransport({
  host: 'localhost',
  port: a.port,
  secure: false,
  requireTLS: true,
  tls: { ca: readFileSync(a.ca) },
  auth: {
    type: 'OAuth2',
    user: a.user,
    provisionCallback: (user, renew, cb) => cb(null, renew ? a.retry : a.token),
  },
});
try {
  const info = await transport.sendMail({
    from: a.user,
    to: 'carol@example.test',
    subject: 'nodemailer with XOAUTH2',
    text: 'hello from nodemailer',
  });
  console.log(JSON.stringify({ response: info.response }));
} catch (e) {
  console.log(JSON.stringify({ error: e.code, responseCode: e.responseCode, response: e.response }));
}
